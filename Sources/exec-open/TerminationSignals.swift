import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Turns SIGINT and SIGTERM into a flag, so that the program ends through its normal path and
/// removes its probes and instance, instead of dying with them left in the kernel. The handler only
/// stores into an atomic, which is async-signal-safe; it is installed without SA_RESTART so that a
/// blocking `waitpid` returns EINTR.
final class TerminationSignals: Sendable {
    private static let lastSignal = Atomic<Int32>(0)

    init() {
        for signal in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { TerminationSignals.lastSignal.store($0, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            sigaction(signal, &action, nil)
        }
    }

    /// The signal received, if any.
    var received: Int32? {
        let signal = Self.lastSignal.load(ordering: .relaxed)
        return signal == 0 ? nil : signal
    }
}
