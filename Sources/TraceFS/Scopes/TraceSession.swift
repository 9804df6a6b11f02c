import Synchronization

/// A scope of tracing: a group of dynamic events and a trace instance that belong to this
/// process alone, removed together (exactly those, never other tools' events) when the scope ends.
///
/// ```swift
/// try await TraceSession.run { session in
///     try session.kprobe("open", address: "do_sys_openat2", format: "file=+0($arg2):ustring")
///     try session.enableAll()
///     for try await record in session.instance.records(using: try session.catalog()) {
///         print(record.pid, record.string("file") ?? "")
///     }
/// }   // probes and instance are gone here, after return, throw or cancellation
/// ```
///
/// By default the group and instance are named `swtf_<pid>_<process start time>_<n>`, so two
/// processes never collide, and a session whose process died without cleaning up (SIGKILL, a
/// crash) is recognised and removed by ``removeOrphans()``.
public final class TraceSession {
    /// The group (system) every probe of the session is created in.
    public let group: String
    /// The session's own trace instance.
    public let instance: Instance
    private let state: PthreadMutex<State>

    private struct State {
        var probes: [DynamicEvent] = []
        /// No new probes once ``end()`` was called, even when it failed.
        var closed = false
        /// ``end()`` removed everything.
        var ended = false
        /// Proof of life for reapers in any namespace, held until the instance is gone.
        var lock: SessionLock?
        /// The registration for SIGINT/SIGTERM cleanup.
        var cleanup: Int?
    }

    /// The prefix of generated group and instance names.
    public static let namePrefix = "swtf"
    private static let sequence = Atomic<Int>(0)

    /// Whether sessions (and ``LatencyHistogram``s) end themselves when the process receives
    /// SIGINT or SIGTERM; `true` unless set otherwise. Applies to scopes started afterwards.
    ///
    /// When on, the first session takes over each of the two signals whose disposition is still
    /// the default: on such a signal every live scope of the process is ended, newest first, and
    /// the signal then ends the process as it would have (exit status 128 + signal). A program that
    /// handles or ignores these signals itself keeps its own handling and should end its sessions
    /// on its own path; so should one that sets this to `false`. SIGKILL cannot be caught: use
    /// ``removeOrphans()`` or `tracefs reap` after it.
    public static var endsOnTerminationSignals: Bool {
        get { TerminationCleanup.isEnabled.load(ordering: .relaxed) }
        set { TerminationCleanup.isEnabled.store(newValue, ordering: .relaxed) }
    }

    /// Starts a session: creates its instance, which must not exist yet.
    ///
    /// - Parameters:
    ///   - group: The group for the session's probes; by default a name unique to this process.
    ///     A fixed name (such as `my_kprobes`) fails with `alreadyExists` at the first probe if
    ///     another tool uses it, and is not recognised by ``removeOrphans()``.
    ///   - instanceName: The instance's name; by default the same unique name. With a name of
    ///     your own, ``removeOrphans()`` cannot prove the session dead and leaves a generated
    ///     group alone.
    /// - Throws: ``TraceFSError`` when the names are invalid or the instance exists or cannot be made.
    public init(group: String? = nil, instanceName: String? = nil) throws(TraceFSError) {
        let operation = "start a trace session"
        if let group { try ProbeInput(operation: operation).name(group, as: "group") }
        let (instance, lock, unique) = try Self.makeInstance(named: instanceName, operation: operation)
        self.group = group ?? unique
        self.instance = instance
        state = PthreadMutex(State(lock: lock))
        let cleanup = TerminationCleanup.register { [weak self] in try? self?.end() }
        state.withLock { $0.cleanup = cleanup }
    }

    deinit {
        TerminationCleanup.unregister(state.withLock { $0.cleanup })
    }

    /// Creates the session's instance and, when its name is generated, locks it. A reaper may
    /// remove a generated instance between its creation and our lock (it cannot tell it from a
    /// dead session's): then the lock is not ours, and another name is tried.
    ///
    /// - Returns: The instance, its lock, and the generated name (also for the group).
    private static func makeInstance(
        named instanceName: String?, operation: String
    ) throws(TraceFSError) -> (Instance, SessionLock?, String) {
        for _ in 0..<3 {
            let name = uniqueName()
            let instance = try Instance.create(named: instanceName ?? name)
            guard instance.isNew else {
                throw TraceFSError(.alreadyExists, operation: operation,
                                   reason: "the instance '\(instance.name ?? "")' exists already and may belong to another "
                                       + "tool; choose another instance name")
            }
            guard instanceName == nil else { return (instance, nil, name) }
            if let directory = instance.directory, case .taken(let lock) = SessionLock.attempt(directory) {
                return (instance, lock, name)
            }
            try? instance.destroy()
        }
        throw TraceFSError(.busy, operation: operation,
                           reason: "another process removed each new instance before it could be locked; "
                               + "is a reaper running in a loop?")
    }

    static func uniqueName() -> String {
        let me = ProcessIdentity.current
        return "\(namePrefix)_\(me.pid)_\(me.startTime)_\(sequence.add(1, ordering: .relaxed).newValue)"
    }

    /// Runs `body` with a new session and ends the session when `body` returns or throws.
    @discardableResult
    public static func run<Result>(
        group: String? = nil, instanceName: String? = nil, _ body: (TraceSession) throws -> Result
    ) throws -> Result {
        let session = try TraceSession(group: group, instanceName: instanceName)
        do {
            let result = try body(session)
            try session.end()
            return result
        } catch {
            try? session.end()
            throw error
        }
    }

    /// Runs `body` with a new session and ends the session when `body` returns, throws, or its
    /// task is cancelled (cancellation reaches `body` as `CancellationError` from its awaits).
    @discardableResult
    public static func run<Result>(
        group: String? = nil, instanceName: String? = nil, isolation: isolated (any Actor)? = #isolation,
        _ body: (TraceSession) async throws -> Result
    ) async throws -> Result {
        let session = try TraceSession(group: group, instanceName: instanceName)
        do {
            let result = try await body(session)
            try session.end()
            return result
        } catch {
            try? session.end()
            throw error
        }
    }

    // MARK: - Probes

    /// Creates a kprobe `group/event` in the kernel; the session removes it when it ends.
    @discardableResult
    public func kprobe(_ event: String, address: String, format: String? = nil) throws(TraceFSError) -> DynamicEvent {
        try adopt(DynamicEvent.kprobe(system: group, event: event, address: address, format: format))
    }

    /// Creates a kretprobe `group/event` in the kernel; the session removes it when it ends.
    @discardableResult
    public func kretprobe(_ event: String, address: String, format: String? = nil, maxActive: UInt32 = 0)
        throws(TraceFSError) -> DynamicEvent
    {
        try adopt(DynamicEvent.kretprobe(system: group, event: event, address: address, format: format,
                                         maxActive: maxActive))
    }

    /// Creates a uprobe `group/event` in the kernel; the session removes it when it ends.
    @discardableResult
    public func uprobe(_ event: String, file: String, offset: UInt64, fetchArgs: String? = nil)
        throws(TraceFSError) -> DynamicEvent
    {
        try adopt(DynamicEvent.uprobe(system: group, event: event, file: file, offset: offset, fetchArgs: fetchArgs))
    }

    /// Creates a uprobe `group/event` on the function `symbol` of `file` (its ELF symbol tables
    /// give the offset); the session removes it when it ends. `event` defaults to the symbol's name.
    @discardableResult
    public func uprobe(_ event: String? = nil, file: String, symbol: String, offset: UInt64 = 0,
                       fetchArgs: String? = nil) throws(TraceFSError) -> DynamicEvent {
        try adopt(DynamicEvent.uprobe(system: group, event: event, file: file, symbol: symbol,
                                      offset: offset, fetchArgs: fetchArgs))
    }

    /// Creates a uretprobe `group/event` on the return of the function `symbol` of `file`; the
    /// session removes it when it ends.
    @discardableResult
    public func uretprobe(_ event: String? = nil, file: String, symbol: String,
                          fetchArgs: String? = nil) throws(TraceFSError) -> DynamicEvent {
        try adopt(DynamicEvent.uretprobe(system: group, event: event, file: file, symbol: symbol,
                                         fetchArgs: fetchArgs))
    }

    /// Creates a uretprobe `group/event` in the kernel; the session removes it when it ends.
    @discardableResult
    public func uretprobe(_ event: String, file: String, offset: UInt64, fetchArgs: String? = nil)
        throws(TraceFSError) -> DynamicEvent
    {
        try adopt(DynamicEvent.uretprobe(system: group, event: event, file: file, offset: offset, fetchArgs: fetchArgs))
    }

    /// Creates an eprobe `group/event` in the kernel; the session removes it when it ends.
    @discardableResult
    public func eprobe(_ event: String, targetSystem: String, targetEvent: String, fetchArgs: String? = nil)
        throws(TraceFSError) -> DynamicEvent
    {
        try adopt(DynamicEvent.eprobe(system: group, event: event, targetSystem: targetSystem,
                                      targetEvent: targetEvent, fetchArgs: fetchArgs))
    }

    // MARK: - Typed fetch arguments and USDT probes

    /// Creates a kprobe with typed fetch arguments; the session removes it when it ends.
    @discardableResult
    public func kprobe(_ event: String, address: String, arguments: [FetchArgument]) throws(TraceFSError) -> DynamicEvent {
        try adopt(DynamicEvent.kprobe(system: group, event: event, address: address, arguments: arguments))
    }

    /// Creates a kretprobe with typed fetch arguments; the session removes it when it ends.
    @discardableResult
    public func kretprobe(_ event: String, address: String, arguments: [FetchArgument], maxActive: UInt32 = 0)
        throws(TraceFSError) -> DynamicEvent
    {
        try adopt(DynamicEvent.kretprobe(system: group, event: event, address: address, arguments: arguments,
                                         maxActive: maxActive))
    }

    /// Creates a uprobe on `symbol` of `file` with typed fetch arguments; the session removes it
    /// when it ends.
    @discardableResult
    public func uprobe(_ event: String? = nil, file: String, symbol: String, offset: UInt64 = 0,
                       arguments: [FetchArgument]) throws(TraceFSError) -> DynamicEvent {
        try adopt(DynamicEvent.uprobe(system: group, event: event, file: file, symbol: symbol, offset: offset,
                                      arguments: arguments))
    }

    /// Creates a uretprobe on `symbol` of `file` with typed fetch arguments; the session removes
    /// it when it ends.
    @discardableResult
    public func uretprobe(_ event: String? = nil, file: String, symbol: String, arguments: [FetchArgument])
        throws(TraceFSError) -> DynamicEvent
    {
        try adopt(DynamicEvent.uretprobe(system: group, event: event, file: file, symbol: symbol, arguments: arguments))
    }

    /// Creates a uprobe on the USDT probe `provider:name` of `file`; the session removes it when it
    /// ends. See ``DynamicEvent/usdt(system:event:file:provider:name:argumentNames:userStrings:)``.
    @discardableResult
    public func usdt(_ event: String? = nil, file: String, provider: String, name: String,
                     argumentNames: [String]? = nil, userStrings: Set<String> = []) throws(TraceFSError) -> DynamicEvent {
        try adopt(DynamicEvent.usdt(system: group, event: event, file: file, provider: provider, name: name,
                                    argumentNames: argumentNames, userStrings: userStrings))
    }

    /// The probes this session created and has not removed.
    public var events: [DynamicEvent] { state.withLock { $0.probes } }

    /// Creates `probe` under the session's lock, so that an ``end()`` running at the same time
    /// (from the signal thread, say) either sees it or refuses it.
    private func adopt(_ probe: DynamicEvent) throws(TraceFSError) -> DynamicEvent {
        try state.withLock { state throws(TraceFSError) in
            guard !state.closed else {
                throw TraceFSError(.invalidArgument, operation: "create \(probe)", reason: "the session has ended")
            }
            try probe.create()
            state.probes.append(probe)
        }
        return probe
    }

    /// Enables every probe of the session in its instance.
    public func enableAll() throws(TraceFSError) {
        try instance.enableEvent(system: group, event: nil)
    }

    /// The formats of the session's events and of `otherSystems`; load it after creating the probes.
    public func catalog(otherSystems: [String] = []) throws(TraceFSError) -> EventCatalog {
        try EventCatalog.local(systems: [group] + otherSystems)
    }

    /// Removes the session's probes (disabling them first) and its instance. Ending twice is safe;
    /// after a failure (a probe still busy, say), calling it again retries what is left.
    ///
    /// - Throws: ``TraceFSError`` for the first thing that could not be removed; the rest is
    ///   still attempted.
    public func end() throws(TraceFSError) {
        try state.withLock { state throws(TraceFSError) in
            state.closed = true
            guard !state.ended else { return }
            instance.stopFollowing()
            var failure: TraceFSError?
            try? instance.disableEvent(system: group, event: nil)
            var left: [DynamicEvent] = []
            for probe in state.probes.reversed() {
                do throws(TraceFSError) { try probe.destroy(force: true) } catch {
                    failure = failure ?? error
                    left.insert(probe, at: 0)
                }
            }
            state.probes = left
            do throws(TraceFSError) { try instance.destroy() } catch { failure = failure ?? error }
            if let failure { throw failure }
            state.ended = true
            state.lock = nil
            TerminationCleanup.unregister(state.cleanup)
            state.cleanup = nil
        }
    }
}

// Sendable: `group` and `instance` never change (Instance is Sendable); the probes, the lock and
// the end state sit behind a mutex.
extension TraceSession: @unchecked Sendable {}
