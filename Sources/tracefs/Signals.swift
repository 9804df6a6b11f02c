import Synchronization
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM as a flag that the subcommand's loop reads, so that it ends through its
/// normal path: it stops reading, prints what was counted, and its session removes everything.
///
/// The handlers are installed before any session starts, so the library's own takeover (which
/// ends sessions and re-raises the signal) leaves them alone; it is also switched off outright.
/// The handler only stores into a lock-free atomic, which is async-signal-safe.
enum Signals {
    private static let lastSignal = Atomic<Int32>(0)

    static func install() {
        TraceSession.endsOnTerminationSignals = false
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for signal in [SIGINT, SIGTERM] {
            sigaddset(&unblocked, signal)
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { Signals.lastSignal.store($0, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signal, &action, nil)
        }
        // A parent that started us from a thread blocking them (libdispatch's workers do) passed
        // the block on.
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
    }

    /// The signal received, if any.
    static var received: Int32? {
        let signal = lastSignal.load(ordering: .relaxed)
        return signal == 0 ? nil : signal
    }

    /// Sleeps for up to `seconds`, returning early on a signal; returns whether one came.
    static func sleep(seconds: Double) -> Bool {
        let end = monotonicSeconds() + seconds
        while received == nil {
            let left = end - monotonicSeconds()
            if left <= 0 { return false }
            usleep(UInt32(min(left, 0.02) * 1_000_000))
        }
        return true
    }
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// The threads of process `pid` (`/proc/PID/task`), or `nil` when it does not run.
func threads(of pid: Int32) -> [Int32]? {
    guard let directory = opendir("/proc/\(pid)/task") else { return nil }
    defer { closedir(directory) }
    var tids: [Int32] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if let tid = Int32(name) { tids.append(tid) }
    }
    return tids.sorted()
}
