import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Turns SIGINT and SIGTERM into a flag, so that the program ends through its normal path and
/// removes its probes and instance, instead of dying with them left in the kernel. The handler only
/// stores into an atomic, which is async-signal-safe. The signals are unblocked too: a parent that started us from
/// a thread that blocks them (libdispatch's workers do) would otherwise pass the block on.
final class TerminationSignals: Sendable {
    private static let lastSignal = Atomic<Int32>(0)

    init() {
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for signal in [SIGINT, SIGTERM] {
            sigaddset(&unblocked, signal)
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { TerminationSignals.lastSignal.store($0, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, nil)
        }
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
    }

    /// The signal received, if any.
    var received: Int32? {
        let signal = Self.lastSignal.load(ordering: .relaxed)
        return signal == 0 ? nil : signal
    }
}
