import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM end a process's sessions before the signal ends the process.
extension KernelSuite {
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && KernelFeatures.uprobes && SessionHolder.holdFile == nil,
                                 "needs root and uprobes; not in a holder"))
    struct TerminationSignalTests {
        @Test(arguments: [SIGINT, SIGTERM])
        func aSignalEndsTheSessionAndThenTheProcess(signal: Int32) async throws {
            let (holder, group) = try await SessionHolder.start(.probes)
            #expect(DynamicEventsFile.lines(ofGroup: group).count == 3)
            #expect(try Instance.names().contains(group))

            #expect(SessionHolder.end(holder, with: signal) == signal, "the process still dies of the signal")
            #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty, "the session's probes were removed first")
            #expect(try !Instance.names().contains(group))
        }

        @Test func withCleanupOffTheSignalLeavesAnOrphanThatTheReaperRemoves() async throws {
            let (holder, group) = try await SessionHolder.start(.withoutSignalCleanup)
            #expect(SessionHolder.end(holder, with: SIGTERM) == SIGTERM)
            #expect(DynamicEventsFile.lines(ofGroup: group).count == 3, "nothing ended the session")
            let report = try TraceSession.removeOrphans()
            #expect(report.groups.contains(group))
            #expect(report.instances.contains(group))
            #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
        }
    }
}
