import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// A process that dies with SIGKILL cannot clean up; `TraceSession.removeOrphans()` removes what it
/// left, and nothing else.
extension KernelSuite {
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && KernelFeatures.uprobes, "needs root and uprobes"))
    struct OrphanTests {
        static let holdFileVariable = "TRACEFS_TEST_HOLD_FILE"

        /// The child's part: runs only when the parent test starts this bundle with the variable set.
        @Test(.enabled(if: getenv(holdFileVariable) != nil, "runs only as the orphan test's child"))
        func holdProbesUntilKilled() throws {
            let path = String(cString: getenv(Self.holdFileVariable))
            let session = try TraceSession()
            try session.uprobe("one", file: UprobeTarget.path, offset: 0x100)
            try session.uprobe("two", file: UprobeTarget.path, offset: 0x200)
            try session.uretprobe("three", file: UprobeTarget.path, offset: 0x100)
            try session.enableAll()
            let temporary = path + ".part"
            let file = fopen(temporary, "w")
            fputs(session.group, file)
            fclose(file)
            rename(temporary, path)
            sleep(120)  // the parent kills us long before
            try session.end()
        }

        @Test(.enabled(if: getenv(holdFileVariable) == nil, "not in the child"))
        func removesWhatAKilledProcessLeftAndNothingElse() async throws {
            try await TemporaryGroup.with("bystander") { bystander in
                try DynamicEvent.uprobe(system: bystander, event: "keep", file: UprobeTarget.path, offset: 0x100).create()
                try await TraceSession.run { living in
                    try living.uprobe("alive", file: UprobeTarget.path, offset: 0x100)

                    let holdFile = "/tmp/swtest_hold_\(getpid())"
                    unlink(holdFile)
                    defer { unlink(holdFile) }
                    let child = try #require(ChildRun.start(
                        [CommandLine.arguments[0], "--testing-library", "swift-testing", "--filter", "holdProbesUntilKilled"],
                        environment: [Self.holdFileVariable: holdFile]))
                    var group = ""
                    for _ in 0..<600 where group.isEmpty {
                        group = readKernelFile(holdFile)
                        if group.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
                    }
                    if group.isEmpty { kill(child, SIGKILL) }
                    try #require(!group.isEmpty, "the child never created its probes")
                    #expect(DynamicEventsFile.lines(ofGroup: group).count == 3)
                    #expect(try Instance.names().contains(group))

                    kill(child, SIGKILL)
                    let status = ChildRun.wait(child)
                    #expect(status & 0x7F == SIGKILL)
                    #expect(DynamicEventsFile.lines(ofGroup: group).count == 3, "the probes are orphans now")

                    let report = try TraceSession.removeOrphans()
                    #expect(report.groups.contains(group))
                    #expect(report.instances.contains(group))
                    #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
                    #expect(try !Instance.names().contains(group))
                    // The living session and the other tool's event are untouched.
                    #expect(DynamicEventsFile.lines(ofGroup: living.group).count == 1)
                    #expect(try Instance.names().contains(living.group))
                    #expect(DynamicEventsFile.lines(ofGroup: bystander).count == 1)
                    #expect(!report.groups.contains(living.group))
                }
            }
        }
    }
}
