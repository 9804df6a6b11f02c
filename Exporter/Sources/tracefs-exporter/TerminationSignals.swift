import ServiceLifecycle
import Synchronization
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT from the first line of `main` on, so that a signal that arrives while the
/// exporter is still creating its probes (before any server runs) ends it through its cleanup
/// instead of the default action, which would leave the probes in the kernel.
///
/// The handler only stores the signal into a lock-free atomic (async-signal-safe). The exporter
/// reads it after arming (and then removes what it made and exits 0); once the server runs,
/// ``Service`` turns it into the service group's graceful shutdown. swift-service-lifecycle is
/// therefore given no signals of its own: it would set them to SIG_IGN and listen with a dispatch
/// source, and a signal in between would be lost.
enum TerminationSignals {
    private static let lastSignal = Atomic<Int32>(0)

    static func install() {
        // The library's own takeover (end sessions, re-raise) is for programs without handlers.
        TraceSession.endsOnTerminationSignals = false
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for signal in [SIGINT, SIGTERM] {
            sigaddset(&unblocked, signal)
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { TerminationSignals.lastSignal.store($0, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signal, &action, nil)
        }
        // A parent that started us from a thread blocking them (libdispatch's workers do) passed
        // the block on; a signal already pending arrives now, at the handler.
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
    }

    /// The signal received, if any.
    static var received: Int32? {
        let signal = lastSignal.load(ordering: .relaxed)
        return signal == 0 ? nil : signal
    }

    /// Returns when SIGTERM or SIGINT arrives, which (as a service that ends successfully) shuts
    /// the group down; ends quietly when the group shuts down or is cancelled for another reason.
    struct Service: ServiceLifecycle.Service {
        func run() async throws {
            try? await cancelWhenGracefulShutdown {
                while TerminationSignals.received == nil {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
        }
    }
}
