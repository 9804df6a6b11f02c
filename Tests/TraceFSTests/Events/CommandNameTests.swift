import CTraceFS
import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// `record.command` names the tracing process itself (issue 10 item 8): the kernel saves command
/// names only for tasks that ran while events were enabled, so a marker written with no event
/// enabled had none; a live task's `/proc/<pid>/comm` names it.
extension KernelSuite {
    @Suite(.enabled(if: KernelFeatures.isRoot, "needs root"))
    struct CommandNameTests {
        @Test func aRecordOfThisThreadCarriesItsCurrentName() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("comm")) { instance in
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                // A name of this run only (the kernel keeps 15 bytes), so no saved name can match by chance.
                let name = "swtc\(getpid() % 100_000)_\(Int.random(in: 100...999))"
                let previous = String(readKernelFile("/proc/thread-self/comm").dropLast())
                _ = ctracefs_name_thread(name)
                defer { _ = ctracefs_name_thread(previous) }
                try instance.writeMarker("named")
                var commands: [String?] = []
                var copies: [TraceRecord] = []
                try instance.readRecords(using: catalog) { record in
                    commands.append(record.command)
                    copies.append(record.copy())
                    return .continue
                }
                #expect(commands == [name])
                #expect(copies.map(\.command) == [name])
                #expect(catalog.command(forPID: currentThreadID()) == name)
                // A pid no live task has stays nil.
                #expect(catalog.command(forPID: Int32.max) == nil)
            }
        }
    }
}
