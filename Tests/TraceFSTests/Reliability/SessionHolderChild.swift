import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// The holder's side of ``SessionHolder``: runs only in a process that a test started for it.
    @Suite(.enabled(if: SessionHolder.holdFile != nil, "runs only as a session holder started by another test"))
    struct SessionHolderChild {
        @Test func holdASessionAsAnotherProcess() throws {
            let mode = try #require(getenv(SessionHolder.modeVariable).flatMap { SessionHolder.Mode(rawValue: String(cString: $0)) })
            switch mode {
            case .probes, .withoutSignalCleanup, .prependMarkCommand:
                if mode == .withoutSignalCleanup { TraceSession.endsOnTerminationSignals = false }
                if mode == .prependMarkCommand {
                    // The process's (main thread's) command, as /proc/<pid>/stat shows it: "swtf\u{0600}".
                    let descriptor = open("/proc/self/comm", O_WRONLY)
                    let name: [UInt8] = Array("swtf".utf8) + [0xD8, 0x80]
                    _ = name.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
                    close(descriptor)
                }
                let session = try TraceSession()
                try session.uprobe("one", file: UprobeTarget.path, offset: 0x100)
                try session.uprobe("two", file: UprobeTarget.path, offset: 0x200)
                try session.uretprobe("three", file: UprobeTarget.path, offset: 0x100)
                try session.enableAll()
                SessionHolder.announce(session.group)
                sleep(120)  // the parent signals or kills us long before
                try session.end()
            case .fork:
                SessionHolder.announce(Self.sessionsAcrossFork())
            case .latency:
                let latency = try LatencyHistogram(function: .kernel("do_sys_openat2"))
                SessionHolder.announce(latency.session.group)
                sleep(120)
                try latency.end()
            case .reap:
                let report = try TraceSession.removeOrphans()
                SessionHolder.announce("removed " + report.groups.joined(separator: ",") + ";")
            }
        }

        /// A session, a fork whose child starts a session and holds it a moment, and a second
        /// session in the parent meanwhile: three distinct names, none refused.
        static func sessionsAcrossFork() -> String {
            guard let first = try? TraceSession() else { return "the first session failed" }
            defer { try? first.end() }
            let childsFile = (SessionHolder.holdFile ?? "/tmp/swtest_fork") + ".child"
            unlink(childsFile)
            defer { unlink(childsFile) }
            let child = fork()
            if child == 0 {
                // Only this thread exists here; it starts a session, tells its name, holds it 1 s.
                // No signal thread: starting threads after fork() in a multithreaded process is
                // beyond what POSIX allows there (ThreadSanitizer refuses it), and the names are
                // what is tested.
                TraceSession.endsOnTerminationSignals = false
                var text = "the child's session failed"
                let session = try? TraceSession()
                if let session { text = session.group }
                let file = fopen(childsFile + ".part", "w")
                fputs(text, file)
                fclose(file)
                rename(childsFile + ".part", childsFile)
                sleep(1)
                try? session?.end()
                _exit(0)
            }
            var childsGroup = ""
            for _ in 0..<1000 where childsGroup.isEmpty {
                usleep(10_000)
                childsGroup = readKernelFile(childsFile)
            }
            let second: String
            do { second = try TraceSession.run { $0.group } } catch { second = "refused: \(error)" }
            _ = ChildRun.wait(child)
            return "ok \(first.group) \(childsGroup) \(second)"
        }
    }
}
