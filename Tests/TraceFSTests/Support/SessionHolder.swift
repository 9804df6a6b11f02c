import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// A second process that holds a trace session until it is signalled or killed: this test bundle,
/// started again to run only ``KernelSuite/SessionHolderChild``, optionally under a wrapper such
/// as `unshare`. What it made is what a process that dies leaves behind.
enum SessionHolder {
    static let fileVariable = "TRACEFS_TEST_HOLD_FILE"
    static let modeVariable = "TRACEFS_TEST_HOLD_MODE"

    /// What the holder does (the child's switch reads the same names).
    enum Mode: String {
        /// A session with three uprobes, enabled; waits.
        case probes
        /// The same with `TraceSession.endsOnTerminationSignals` off.
        case withoutSignalCleanup
        /// The same, after renaming the process to a command that ends in U+0600.
        case prependMarkCommand
        /// A session, then `fork()`: the child starts a session of its own while the parent starts
        /// another; announces `ok <parent's> <child's> <parent's second>` or what went wrong.
        case fork
        /// A ``LatencyHistogram`` on `do_sys_openat2` (kprobes, synthetic events, histograms); waits.
        case latency
        /// Runs `TraceSession.removeOrphans()` once and announces the groups it removed.
        case reap
    }

    static var holdFile: String? { getenv(fileVariable).map { String(cString: $0) } }

    /// The child's word to the parent, written whole (rename) so that it is never read half-written.
    static func announce(_ text: String) {
        guard let path = holdFile else { return }
        let temporary = path + ".part"
        let file = fopen(temporary, "w")
        fputs(text, file)
        fclose(file)
        rename(temporary, path)
    }

    /// Starts a holder under `wrapper` (such as `["/usr/bin/unshare", "-p", ...]`) and waits up to
    /// 60 s for its announcement; a holder that never announces is killed and the test fails.
    static func start(_ mode: Mode, under wrapper: [String] = []) async throws -> (pid: pid_t, announcement: String) {
        let holdFile = "/tmp/swtest_hold_\(getpid())_\(mode.rawValue)"
        unlink(holdFile)
        defer { unlink(holdFile) }
        let child = try #require(ChildRun.start(
            wrapper + [CommandLine.arguments[0], "--testing-library", "swift-testing", "--filter", "holdASessionAsAnotherProcess"],
            environment: [fileVariable: holdFile, modeVariable: mode.rawValue]))
        var announcement = ""
        for _ in 0..<1200 where announcement.isEmpty {
            announcement = readKernelFile(holdFile)
            if announcement.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        if announcement.isEmpty {
            kill(child, SIGKILL)
            _ = ChildRun.wait(child)
        }
        try #require(!announcement.isEmpty, "the holder (\(mode.rawValue)) never announced its session")
        return (child, announcement)
    }

    /// Signals `pid` and returns the signal that ended it, or `nil` when it exited normally.
    static func end(_ pid: pid_t, with signal: Int32) -> Int32? {
        kill(pid, signal)
        let status = ChildRun.wait(pid)
        return status & 0x7F == 0 ? nil : status & 0x7F
    }
}
