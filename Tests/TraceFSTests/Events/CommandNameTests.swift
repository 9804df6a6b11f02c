import CTraceFS
import Dispatch
import Synchronization
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
                // Written from a new thread: a thread the tests used before may have its earlier name
                // in saved_cmdlines (the kernel saves a task's name whenever it runs while any
                // instance records events, as other suites' do meanwhile), and a saved name wins.
                let writer = Mutex<(tid: Int32, error: TraceFSError?)>((0, nil))
                let written = DispatchSemaphore(value: 0)
                let readDone = DispatchSemaphore(value: 0)
                let thread = TestThread.start {
                    _ = ctracefs_name_thread(name)
                    do throws(TraceFSError) {
                        try instance.writeMarker("named")
                    } catch {
                        writer.withLock { $0.error = error }
                    }
                    writer.withLock { $0.tid = currentThreadID() }
                    written.signal()
                    readDone.wait()
                }
                written.wait()
                defer { readDone.signal(); thread.join() }
                let (tid, error) = writer.withLock { $0 }
                #expect(error == nil)
                var commands: [String?] = []
                var pids: [Int32] = []
                var copies: [TraceRecord] = []
                try instance.readRecords(using: catalog) { record in
                    commands.append(record.command)
                    pids.append(record.pid)
                    copies.append(record.copy())
                    return .continue
                }
                #expect(pids == [tid])
                #expect(commands == [name])
                #expect(copies.map(\.command) == [name])
                #expect(catalog.command(forPID: tid) == name)
                // A pid no live task has stays nil.
                #expect(catalog.command(forPID: Int32.max) == nil)
            }
        }
    }
}
