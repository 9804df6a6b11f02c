import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Ends the process's live scopes (sessions, latency histograms) when SIGINT or SIGTERM would
/// otherwise kill it with their probes and instance left in the kernel, then lets the signal do
/// what it would have done.
///
/// Only a signal whose disposition is still the default (terminate) is taken over: a program that
/// handles or ignores SIGINT/SIGTERM itself (swift-service-lifecycle, `nohup`) keeps its own
/// behaviour and ends its scopes on its own path. The handler only writes the signal's number to a
/// pipe (async-signal-safe); a thread of its own reads it, ends every registered scope of this
/// process, newest first, restores the default disposition and raises the signal again, so the
/// process dies of it as it would have (exit status 128 + signal for a shell).
enum TerminationCleanup {
    /// What ``TraceSession/endsOnTerminationSignals`` sets.
    static let isEnabled = Atomic<Bool>(true)

    private struct Scope {
        /// The process that registered it: after `fork()` the child must not end its parent's scopes.
        let owner: pid_t
        let end: @Sendable () -> Void
    }

    private struct Registry {
        var scopes: [Int: Scope] = [:]
        var nextID = 0
        /// The process whose handlers, pipe and thread are installed; 0 when none are.
        var installedIn: pid_t = 0
    }

    private static let registry = PthreadMutex(Registry())
    /// The pipe's write end for the handler, which may touch nothing but lock-free atomics.
    private static let writeEnd = Atomic<Int32>(-1)
    private static let signals: [Int32] = [SIGINT, SIGTERM]

    /// Async-signal-safe: a lock-free atomic load and `write`, with `errno` kept.
    private static let handler: @convention(c) (Int32) -> Void = { signal in
        let saved = errno
        var byte = UInt8(truncatingIfNeeded: signal)
        _ = write(TerminationCleanup.writeEnd.load(ordering: .relaxed), &byte, 1)
        errno = saved
    }

    /// Registers `end` to run on SIGINT or SIGTERM; returns the id to unregister it with, or `nil`
    /// when cleanup on signals is off.
    static func register(_ end: @escaping @Sendable () -> Void) -> Int? {
        guard isEnabled.load(ordering: .relaxed) else { return nil }
        let me = getpid()
        return registry.withLock { registry in
            if registry.installedIn != me {
                install()
                registry.installedIn = me
            }
            registry.nextID += 1
            registry.scopes[registry.nextID] = Scope(owner: me, end: end)
            return registry.nextID
        }
    }

    static func unregister(_ id: Int?) {
        guard let id, id != 0 else { return }
        _ = registry.withLock { $0.scopes.removeValue(forKey: id) }
    }

    /// Takes over the signals whose disposition is the default, and starts the thread that acts on
    /// them. Called with the registry locked, once per process.
    private static func install() {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { return }
        // Not passed on to programs the process runs.
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        writeEnd.store(ends[1], ordering: .releasing)
        let readEnd = ends[0]
        DetachedThread.start(named: "tracefs-signals") { waitForSignals(readEnd) }
        for signal in signals {
            var current = sigaction()
            guard sigaction(signal, nil, &current) == 0, current.__sigaction_handler.sa_handler == nil,
                  current.sa_flags & SA_SIGINFO == 0 else { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = handler
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signal, &action, nil)
        }
        // A child made by fork() has neither this thread nor a pipe of its own (it would wake
        // its parent's thread): it starts over with the default dispositions it had before.
        pthread_atfork(nil, nil) {
            for signal in TerminationCleanup.signals {
                var current = sigaction()
                if sigaction(signal, nil, &current) == 0, current.sa_flags & SA_SIGINFO == 0,
                   unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self)
                    == unsafeBitCast(TerminationCleanup.handler, to: Int.self) {
                    var action = sigaction()
                    sigemptyset(&action.sa_mask)
                    sigaction(signal, &action, nil)
                }
            }
            TerminationCleanup.writeEnd.store(-1, ordering: .relaxed)
        }
    }

    private static func waitForSignals(_ readEnd: Int32) {
        var byte: UInt8 = 0
        while true {
            let count = read(readEnd, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else { return }
            endScopesAndDie(of: Int32(byte))
        }
    }

    private static func endScopesAndDie(of signal: Int32) {
        if isEnabled.load(ordering: .relaxed) {
            let me = getpid()
            let scopes = registry.withLock { registry in
                registry.scopes.filter { $0.value.owner == me }.sorted { $0.key > $1.key }.map(\.value.end)
            }
            for end in scopes { end() }
        }
        var action = sigaction()
        sigemptyset(&action.sa_mask)
        sigaction(signal, &action, nil)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        sigaddset(&unblocked, signal)
        pthread_sigmask(SIG_UNBLOCK, &unblocked, nil)
        raise(signal)
        _exit(128 + signal)
    }
}
