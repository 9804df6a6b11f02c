import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// Runs in the guest booted with `lockdown=confidentiality` (scripts/guest-test), where the kernel
    /// refuses kprobes and tracefs hides its control files.
    @Suite(.serialized, .enabled(if: getenv("TRACEFS_EXPECT_LOCKDOWN") != nil, "only in the lockdown guest"))
    struct LockdownTests {
        @Test func theKernelReportsConfidentialityLockdown() {
            #expect(KernelLockdown.current == .confidentiality)
            #expect(KernelLockdown.current.forbidsTracing)
        }

        @Test func creatingAKprobeFailsWithAnErrorThatNamesLockdown() throws {
            let probe = try DynamicEvent.kprobe(system: "swtest_lockdown", event: "open", address: "do_sys_openat2")
            let error = try #require(throws: TraceFSError.self) { try probe.create() }
            #expect(error.code == .lockedDown)
            #expect(error.description.contains("lockdown"))
            #expect(error.description.contains("confidentiality"))
        }

        @Test func theOneShotKprobeCallNamesLockdownToo() throws {
            let error = try #require(throws: TraceFSError.self) {
                try DynamicEvent.createKprobe(system: "swtest_lockdown", event: "raw", address: "do_sys_openat2")
            }
            #expect(error.code == .lockedDown)
        }
    }
}
