import Synchronization

/// The distribution of a function's run time, counted in the kernel: an entry and a return probe,
/// a synthetic event carrying the time between them, and a histogram of that time, created and
/// removed together.
///
/// It answers what bcc's `funclatency` answers, from tracefs alone:
///
/// ```swift
/// let latency = try LatencyHistogram(function: .kernel("do_sys_openat2"), unit: .microseconds)
/// defer { try? latency.end() }
/// // ... the workload ...
/// for row in try latency.read().rows {
///     print(row.key("delta") ?? .number(0), row.hitCount)
/// }
/// ```
///
/// Everything lives under one ``TraceSession``'s unique names (the probes' group, the instance
/// and the synthetic event), and ``end()`` removes it all. Needs kprobes (or uprobes), synthetic
/// events and hist triggers.
public final class LatencyHistogram {
    /// What is timed.
    public enum Function: Sendable, Hashable {
        /// A kernel function, by symbol (a kprobe and a kretprobe).
        case kernel(String)
        /// A user-space function at a file offset (a uprobe and a uretprobe).
        case user(file: String, offset: UInt64)
    }

    /// The unit of the measured time.
    public enum Unit: Sendable, Hashable {
        case nanoseconds
        case microseconds
    }

    /// How the times are grouped.
    public enum Buckets: Sendable, Hashable {
        /// Powers of two: (2^(n-1), 2^n].
        case log2
        /// Linear buckets of `size` units.
        case linear(size: Int)
    }

    /// The session whose group, instance and name everything uses.
    public let session: TraceSession
    /// The synthetic event that carries `delta` (and `pid`).
    public let event: SyntheticEvent
    /// The histogram of `delta`, in the session's instance.
    public let histogram: Histogram
    /// The registration for SIGINT/SIGTERM cleanup (0: none), which ends the whole histogram
    /// before its session (a session alone could not remove probes the triggers keep busy).
    private let cleanup = Atomic<Int>(0)

    /// Creates the probes, the synthetic event and the histogram, and starts counting.
    ///
    /// - Parameters:
    ///   - function: The function to time.
    ///   - unit: Nanoseconds or microseconds.
    ///   - buckets: Power-of-two or linear buckets.
    ///   - byProcess: Also key the histogram by process (`common_pid.execname`).
    ///   - pid: Only time calls made by this process (thread).
    ///   - maxActive: For a kernel function, how many calls in flight the return probe tracks.
    /// - Throws: ``TraceFSError``: `invalidArgument` for bad input (nothing written); `unsupported`
    ///   without kprobes/uprobes, synthetic events or hist triggers; whatever creating the parts
    ///   throws, after removing the parts made so far.
    public init(
        function: Function, unit: Unit = .microseconds, buckets: Buckets = .log2, byProcess: Bool = false,
        pid: Int32? = nil, maxActive: UInt32 = 0
    ) throws(TraceFSError) {
        let operation = "time \(function)"
        if case .linear(let size) = buckets, !HistogramCheck.bucketSizes.contains(size) {
            throw TraceFSError(.invalidArgument, operation: operation,
                               reason: "bucket size \(size) must be at least 1 (and at most \(Int32.max))")
        }
        // Refuse bad input and missing features before anything is made.
        switch function {
        case .kernel(let symbol):
            _ = try DynamicEvent.kprobe(system: "check", event: "entry", address: symbol)
        case .user(let file, let offset):
            _ = try DynamicEvent.uprobe(system: "check", event: "entry", file: file, offset: offset)
        }
        try SyntheticEvent.requireSyntheticEvents(operation)
        let session = try TraceSession()
        var made: SyntheticEvent?
        var counting: Histogram?
        do {
            switch function {
            case .kernel(let symbol):
                _ = try session.kprobe("entry", address: symbol)
                _ = try session.kretprobe("exit", address: symbol, maxActive: maxActive)
            case .user(let file, let offset):
                _ = try session.uprobe("entry", file: file, offset: offset)
                _ = try session.uretprobe("exit", file: file, offset: offset)
            }
            let catalog = try session.catalog()
            let filter = pid.map { EventFilter.pid($0) }
            event = try SyntheticEvent(
                name: session.group,
                start: SyntheticEvent.Endpoint(system: session.group, event: "entry"),
                end: SyntheticEvent.Endpoint(system: session.group, event: "exit"),
                matching: [SyntheticEvent.Match(start: "common_pid", end: "common_pid", as: "pid")],
                difference: unit == .microseconds ? .microseconds(as: "delta") : .nanoseconds(as: "delta"),
                startFilter: filter, endFilter: filter, catalog: catalog)
            made = event
            try event.create()
            let synthetic = try EventCatalog.local(systems: [SyntheticEvent.system])
            let deltaKey: Histogram.Key = switch buckets {
            case .log2: Histogram.Key("delta", .log2)
            case .linear(let size): Histogram.Key("delta", .buckets(size: size))
            }
            histogram = try Histogram(
                in: session.instance, system: SyntheticEvent.system, event: session.group,
                keys: byProcess ? [Histogram.Key("common_pid", .execname), deltaKey] : [deltaKey],
                sortedBy: byProcess ? [Histogram.SortKey("common_pid"), Histogram.SortKey("delta")]
                    : [Histogram.SortKey("delta")],
                catalog: synthetic)
            counting = histogram
            try histogram.start()
            // A kretprobe and a uretprobe are inserted only while enabled somewhere.
            try session.enableAll()
        } catch {
            try? Self.remove(histogram: counting, event: made, session: session)
            throw error
        }
        self.session = session
        cleanup.store(TerminationCleanup.register { [weak self] in try? self?.end() } ?? 0, ordering: .relaxed)
    }

    deinit {
        TerminationCleanup.unregister(cleanup.load(ordering: .relaxed))
    }

    /// The histogram now (counting goes on).
    public func read() throws(TraceFSError) -> HistogramTable {
        try histogram.read()
    }

    /// Removes the histogram, the synthetic event, the probes and the instance. Ending twice is safe.
    public func end() throws(TraceFSError) {
        try Self.remove(histogram: histogram, event: event, session: session)
        TerminationCleanup.unregister(cleanup.exchange(0, ordering: .relaxed))
    }

    private static func remove(histogram: Histogram?, event: SyntheticEvent?, session: TraceSession) throws(TraceFSError) {
        var failure: TraceFSError?
        try? session.instance.disableEvent(system: session.group, event: nil)
        do { try histogram?.destroy() } catch { failure = failure ?? error }
        do { try event?.destroy() } catch { failure = failure ?? error }
        do { try session.end() } catch { failure = failure ?? error }
        if let failure { throw failure }
    }
}

// Sendable: the three parts are Sendable and never replaced; the registration is atomic.
extension LatencyHistogram: @unchecked Sendable {}
