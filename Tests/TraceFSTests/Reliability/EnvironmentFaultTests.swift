import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Each environment fault gets a clear, typed error. The faults are made for real: the test bundle
/// runs again as user `nobody` (setpriv), or in a mount namespace without tracefs and without
/// CAP_SYS_ADMIN (unshare + setpriv), and its child suites check the errors there.
extension KernelSuite {
    @Suite(.serialized)
    struct EnvironmentFaultTests {
        static let faultVariable = "TRACEFS_TEST_FAULT"
        static var fault: String? { getenv(faultVariable).map { String(cString: $0) } }
        static var bundle: String { CommandLine.arguments[0] }

        // MARK: The parent tests, as root

        @Test(.enabled(if: fault == nil && KernelFeatures.isRoot, "needs root to drop it"))
        func asAnUnprivilegedUserEveryCallIsPermissionDenied() {
            let run = ChildRun.run(
                ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", Self.bundle,
                 "--testing-library", "swift-testing", "--filter", "UnprivilegedChild"],
                environment: [Self.faultVariable: "unprivileged"])
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("everyKernelCallSaysPermissionDeniedAndNamesRoot() passed"), "the child test did not run and pass: \(run.output)")
        }

        @Test(.enabled(if: fault == nil && KernelFeatures.isRoot, "needs root to make the namespace"))
        func withoutTracefsAndWithoutTheRightToMountItTheErrorSaysNotMounted() {
            let script = """
                for path in /sys/kernel/tracing /sys/kernel/debug/tracing /sys/kernel/debug; do \
                  umount -l "$path" 2>/dev/null; done; \
                exec /usr/bin/setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin "$0" \
                  --testing-library swift-testing --filter NotMountedChild
                """
            let run = ChildRun.run(
                ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script, Self.bundle],
                environment: [Self.faultVariable: "unmounted"])
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("theErrorSaysTracefsIsNotMountedAndHowToMountIt() passed"), "the child test did not run and pass: \(run.output)")
        }

        // MARK: The children

        @Suite(.enabled(if: fault == "unprivileged", "runs only as a child of the fault tests"))
        struct UnprivilegedChild {
            @Test func everyKernelCallSaysPermissionDeniedAndNamesRoot() throws {
                #expect(geteuid() != 0)
                for attempt in [
                    { _ = try TracingCapabilities.current() },
                    { try DynamicEvent.uprobe(system: "swtest_nobody", event: "e", file: "/bin/true", offset: 0x100).create() },
                    { _ = try Instance.create(named: "swtest_nobody") },
                    { _ = try DynamicEvent.all() },
                ] as [() throws -> Void] {
                    let error = try #require(throws: TraceFSError.self) { try attempt() }
                    #expect(error.code == .permissionDenied, "\(error)")
                    #expect(error.reason.contains("root"), "\(error)")
                }
            }
        }

        @Suite(.enabled(if: fault == "unmounted", "runs only as a child of the fault tests"))
        struct NotMountedChild {
            @Test func theErrorSaysTracefsIsNotMountedAndHowToMountIt() throws {
                for attempt in [
                    { _ = try TracingCapabilities.current() },
                    { try DynamicEvent.uprobe(system: "swtest_nomount", event: "e", file: "/bin/true", offset: 0x100).create() },
                ] as [() throws -> Void] {
                    let error = try #require(throws: TraceFSError.self) { try attempt() }
                    #expect(error.code == .notMounted, "\(error)")
                    #expect(error.reason.contains("mount -t tracefs"), "\(error)")
                }
            }
        }
    }
}
