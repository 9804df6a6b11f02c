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
    private let probes = Mutex<[DynamicEvent]>([])
    private let closed = Atomic<Bool>(false)

    /// The prefix of generated group and instance names.
    public static let namePrefix = "swtf"
    private static let sequence = Atomic<Int>(0)

    /// Starts a session: creates its instance, which must not exist yet.
    ///
    /// - Parameters:
    ///   - group: The group for the session's probes; by default a name unique to this process.
    ///     A fixed name (such as `my_kprobes`) fails with `alreadyExists` at the first probe if
    ///     another tool uses it, and is not recognised by ``removeOrphans()``.
    ///   - instanceName: The instance's name; by default the same unique name.
    /// - Throws: ``TraceFSError`` when the names are invalid or the instance exists or cannot be made.
    public init(group: String? = nil, instanceName: String? = nil) throws(TraceFSError) {
        let unique = Self.uniqueName()
        let group = group ?? unique
        try ProbeInput(operation: "start a trace session").name(group, as: "group")
        let instance = try Instance.create(named: instanceName ?? unique)
        guard instance.isNew else {
            throw TraceFSError(.alreadyExists, operation: "start a trace session",
                               reason: "the instance '\(instance.name ?? "")' exists already and may belong to another "
                                   + "tool; choose another instance name")
        }
        self.group = group
        self.instance = instance
    }

    static func uniqueName() -> String {
        let me = ProcessIdentity.current
        return "\(namePrefix)_\(me.pid)_\(me.startTime)_\(sequence.add(1, ordering: .relaxed).newValue)"
    }

    /// Runs `body` with a new session and ends the session when `body` returns or throws.
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

    /// The probes this session created and has not removed.
    public var events: [DynamicEvent] { probes.withLock { $0 } }

    private func adopt(_ probe: DynamicEvent) throws(TraceFSError) -> DynamicEvent {
        guard !closed.load(ordering: .acquiring) else {
            throw TraceFSError(.invalidArgument, operation: "create \(probe)", reason: "the session has ended")
        }
        try probe.create()
        probes.withLock { $0.append(probe) }
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

    /// Removes the session's probes (disabling them first) and its instance. Ending twice is safe.
    ///
    /// - Throws: ``TraceFSError`` for the first thing that could not be removed; the rest is
    ///   still attempted.
    public func end() throws(TraceFSError) {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        instance.stopFollowing()
        var failure: TraceFSError?
        try? instance.disableEvent(system: group, event: nil)
        for probe in probes.withLock({ $0 }).reversed() {
            do { try probe.destroy(force: true) } catch { failure = failure ?? error }
        }
        probes.withLock { $0.removeAll() }
        do { try instance.destroy() } catch { failure = failure ?? error }
        if let failure { throw failure }
    }
}

// Sendable: `group` and `instance` never change (Instance is Sendable), the probe list sits behind
// a Mutex and the end-once flag is atomic.
extension TraceSession: @unchecked Sendable {}
