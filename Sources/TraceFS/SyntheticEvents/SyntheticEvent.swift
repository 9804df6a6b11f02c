import CTraceFS
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A synthetic event: a new event the kernel generates when an end event follows a matching start
/// event, carrying fields of both and computed ones such as the time in between.
///
/// A `SyntheticEvent` owns its libtracefs descriptor (`struct tracefs_synth`) and frees it when it
/// goes away; ``create()`` and ``destroy()`` change the kernel. The event appears as
/// `synthetic/<name>`, is listed by `DynamicEvent.all(.synthetic)`, can be enabled and read like
/// any event, and can be the event of a ``Histogram``.
///
/// ```swift
/// let latency = try SyntheticEvent(
///     name: "wakeup_latency",
///     start: SyntheticEvent.Endpoint(system: "sched", event: "sched_waking"),
///     end: SyntheticEvent.Endpoint(system: "sched", event: "sched_switch"),
///     matching: [SyntheticEvent.Match(start: "pid", end: "next_pid", as: "pid")],
///     difference: .microseconds(as: "delta"))
/// try latency.create()
/// defer { try? latency.destroy() }
/// ```
///
/// libtracefs 1.6.4 puts the event's triggers in the top-level instance. Synthetic events need
/// CONFIG_SYNTH_EVENTS (and CONFIG_HIST_TRIGGERS); elsewhere every call throws `unsupported`.
public final class SyntheticEvent: CustomStringConvertible {
    let pointer: OpaquePointer
    /// Serializes libtracefs's use of the descriptor.
    private let lock = Mutex(())
    /// The event's name; its system is always `synthetic`.
    public let name: String
    /// The synthetic event's system.
    public static let system = "synthetic"

    /// Describes a synthetic event; nothing is written until ``create()``.
    ///
    /// - Parameters:
    ///   - name: The new event's name (a C identifier).
    ///   - start: The event that starts a pair.
    ///   - end: The event that ends it.
    ///   - matching: One or more fields that must be equal in both.
    ///   - startFields: Fields of the start event to carry.
    ///   - endFields: Fields of the end event to carry.
    ///   - difference: A field computed as end minus start, such as ``Difference/microseconds(as:)``.
    ///   - startFilter: Only start events for which it holds.
    ///   - endFilter: Only end events for which it holds.
    ///   - handler: When to act (default: on every match).
    ///   - action: What to do (default: generate the event).
    ///   - catalog: Formats of both events' systems; `nil` loads them.
    /// - Throws: ``TraceFSError``: `invalidArgument` for a bad name, an unknown field (naming the
    ///   event's fields), a string in a difference, or a handler other than `match` with an action
    ///   (libtracefs 1.6.4 fails those with ENODEV); `unsupported` without CONFIG_SYNTH_EVENTS.
    ///
    /// The corresponding C functions are `tracefs_synth_alloc`, `tracefs_synth_add_match_field`,
    /// `tracefs_synth_add_start_field`, `tracefs_synth_add_end_field`,
    /// `tracefs_synth_add_compare_field`, `tracefs_synth_append_start_filter`,
    /// `tracefs_synth_append_end_filter` and `tracefs_synth_trace`.
    public init(
        name: String, start: Endpoint, end: Endpoint, matching: [Match], startFields: [Selection] = [],
        endFields: [Selection] = [], difference: Difference? = nil, startFilter: EventFilter? = nil,
        endFilter: EventFilter? = nil, handler: Handler = .match, action: Action = .trace, catalog: EventCatalog? = nil
    ) throws(TraceFSError) {
        let operation = "describe synthetic event \(ProbeInput.display(name)) from \(start) to \(end)"
        let input = ProbeInput(operation: operation)
        try input.name(name, as: "synthetic event")
        for endpoint in [start, end] {
            try input.name(endpoint.system, as: "system")
            try input.name(endpoint.event, as: "event")
        }
        try Self.checkAction(handler, action, operation: operation)
        let formats: EventCatalog
        if let catalog {
            formats = catalog
        } else {
            formats = try EventCatalog.local(systems: start.system == end.system ? [start.system] : [start.system, end.system])
        }
        let (startEvent, startFormat) = try formats.parsedEvent(system: start.system, name: start.event, operation: operation)
        let (endEvent, endFormat) = try formats.parsedEvent(system: end.system, name: end.event, operation: operation)
        let check = SyntheticCheck(start: startFormat, end: endFormat, operation: operation)
        try check.matches(matching)
        try check.selections(startFields, in: startFormat)
        try check.selections(endFields, in: endFormat)
        if let difference { try check.difference(difference) }
        let startCompiler = FilterCompiler(event: startEvent, format: startFormat, operation: operation)
        let endCompiler = FilterCompiler(event: endEvent, format: endFormat, operation: operation)
        if let startFilter { _ = try startCompiler.text(of: startFilter) }
        if let endFilter { _ = try endCompiler.text(of: endFilter) }
        try Self.requireSyntheticEvents(operation)

        let first = matching[0]
        let allocated = formats.withHandle { handle in
            withClearedErrno {
                tracefs_synth_alloc(handle, name, start.system, start.event, end.system, end.event,
                                    first.startField, first.endField, first.name)
            }
        }
        guard let allocated else {
            throw Self.libraryFailure("tracefs_synth_alloc", currentErrno(), operation)
        }
        pointer = allocated
        self.name = name
        // From here on, `deinit` frees the descriptor whatever fails.
        for match in matching.dropFirst() {
            try build("tracefs_synth_add_match_field", operation) {
                tracefs_synth_add_match_field(allocated, match.startField, match.endField, match.name)
            }
        }
        for selection in startFields {
            try build("tracefs_synth_add_start_field", operation) {
                tracefs_synth_add_start_field(allocated, selection.field, selection.name)
            }
        }
        for selection in endFields {
            try build("tracefs_synth_add_end_field", operation) {
                tracefs_synth_add_end_field(allocated, selection.field, selection.name)
            }
        }
        if let difference {
            try build("tracefs_synth_add_compare_field", operation) {
                tracefs_synth_add_compare_field(allocated, difference.startField, difference.endField,
                                                TRACEFS_SYNTH_DELTA_END, difference.name)
            }
        }
        for token in startFilter.map(FilterCompiler.tokens(of:)) ?? [] {
            try build("tracefs_synth_append_start_filter", operation) {
                tracefs_synth_append_start_filter(allocated, token.type, token.field, token.comparison, token.value)
            }
        }
        for token in endFilter.map(FilterCompiler.tokens(of:)) ?? [] {
            try build("tracefs_synth_append_end_filter", operation) {
                tracefs_synth_append_end_filter(allocated, token.type, token.field, token.comparison, token.value)
            }
        }
        try build("tracefs_synth_trace", operation) { tracefs_synth_trace(allocated, TRACEFS_SYNTH_HANDLE_MATCH, nil) }
    }

    /// Takes ownership of a descriptor made by `tracefs_sql`.
    init(taking pointer: OpaquePointer, name: String) {
        self.pointer = pointer
        self.name = name
    }

    deinit {
        tracefs_synth_free(pointer)
    }

    /// "synthetic event synthetic/wakeup_latency".
    public var description: String { "synthetic event \(Self.system)/\(name)" }

    /// libtracefs 1.6.4 stores onmax/onchange variables under generated names, so
    /// `tracefs_synth_trace`, `_snapshot` and `_save` with those handlers fail with ENODEV for
    /// every field; and `tracefs_synth_save` links its action twice. Only `onmatch` with `trace` works.
    static func checkAction(_ handler: Handler, _ action: Action, operation: String) throws(TraceFSError) {
        guard handler == .match, action == .trace else {
            throw TraceFSError(
                .invalidArgument, operation: operation,
                reason: "libtracefs 1.6.4 cannot attach \(action) to \(handler) (onmax/onchange fail with ENODEV for every "
                    + "field, and save() corrupts the action list); use the default: trace on every match, and a "
                    + "Histogram of the synthetic event for maxima")
        }
    }

    private func build(_ function: String, _ operation: String, _ call: () -> Int32) throws(TraceFSError) {
        guard withClearedErrno(call) == 0 else { throw Self.libraryFailure(function, currentErrno(), operation) }
    }

    static func libraryFailure(_ function: String, _ raw: Int32, _ operation: String) -> TraceFSError {
        // Several libtracefs 1.6.4 calls set errno to a negative value.
        let error = raw < 0 ? -raw : raw
        return TraceFSError(error == ENOMEM ? .outOfMemory : .invalidArgument, operation: operation,
                            reason: error == EBADE
                                ? "the start and end fields have types that cannot be compared"
                                : "libtracefs refused a part of the synthetic event",
                            function: function, errno: reportableErrno(error))
    }

    /// Throws `unsupported` naming CONFIG_SYNTH_EVENTS when the kernel has no synthetic events.
    static func requireSyntheticEvents(_ operation: String) throws(TraceFSError) {
        let directory = try TracingDirectory.path(for: operation)
        guard TracingCapabilities.kernelSupports(.synthetic, in: directory) else {
            throw TraceFSError(.unsupported, operation: operation,
                               reason: "this kernel has no synthetic events (CONFIG_SYNTH_EVENTS); use a kernel built with it")
        }
        try Histogram.requireHistograms(operation)
    }

    // MARK: - Kernel

    /// Defines the event and writes the start and end events' triggers.
    ///
    /// - Throws: ``TraceFSError``: `alreadyExists` when an event of that name exists, `unsupported`
    ///   without CONFIG_SYNTH_EVENTS, `invalidArgument` with the kernel's message when it refuses a
    ///   trigger. On failure libtracefs removes what it wrote.
    ///
    /// The corresponding C function is `tracefs_synth_create`.
    public func create() throws(TraceFSError) {
        let operation = "create \(description)"
        try Self.requireSyntheticEvents(operation)
        // The kernel's log is read under LibraryLock, so that no other write of this process comes
        // between; listing the events (which takes the lock itself) comes after.
        let failure: (error: Int32, message: String?)? = LibraryLock.withLock {
            let result = lock.withLock { _ in withClearedErrno { tracefs_synth_create(pointer) } }
            guard result != 0 else { return nil }
            let raw = currentErrno()
            let directory = (try? TracingDirectory.path(for: operation)) ?? ""
            let log = KernelErrorLog(tracingDirectory: directory)
            let message = [tracefs_synth_show_start_hist(pointer), tracefs_synth_show_end_hist(pointer),
                           tracefs_synth_show_event(pointer)]
                .compactMap { $0.map { String(cString: $0) } }
                .lazy.compactMap { log.message(about: $0) }.first
            return (raw < 0 ? -raw : raw, message)
        }
        guard let failure else { return }
        let (error, message) = failure
        let exists = error == EEXIST || self.exists
        throw TraceFSError(
            exists ? .alreadyExists : (message != nil ? .invalidArgument : .from(errno: error)),
            operation: operation,
            reason: exists
                ? "a synthetic event named '\(name)' exists already; choose another name or destroy it first"
                : "the kernel refused the event or its triggers",
            function: "tracefs_synth_create", errno: reportableErrno(error), kernelMessage: message)
    }

    /// Removes the triggers and the event. Removing what is not there is not an error, so calling
    /// this twice is safe.
    ///
    /// The corresponding C function is `tracefs_synth_destroy`.
    public func destroy() throws(TraceFSError) {
        let operation = "destroy \(description)"
        guard (try? Self.requireSyntheticEvents(operation)) != nil, exists else { return }
        let (result, raw) = LibraryLock.withLock {
            let result = lock.withLock { _ in withClearedErrno { tracefs_synth_destroy(pointer) } }
            return (result, currentErrno())
        }
        guard result == 0 || !exists else {
            let error = raw < 0 ? -raw : raw
            throw TraceFSError(.from(errno: error), operation: operation, reason: "the kernel did not remove it",
                               function: "tracefs_synth_destroy", errno: reportableErrno(error))
        }
    }

    /// Whether the kernel has the event.
    public var exists: Bool {
        DynamicEvent.all(.synthetic, systemOrNil: Self.system).contains { $0.event == name }
    }

    /// The event's definition as written to `synthetic_events`, such as
    /// `wakeup_latency u64 delta; pid_t pid`; `nil` before ``create()``.
    ///
    /// The corresponding C function is `tracefs_synth_show_event`.
    public var definition: String? {
        lock.withLock { _ in tracefs_synth_show_event(pointer).map { String(cString: $0) } }
    }

    /// The triggers written to the start and end events; `nil` before ``create()``.
    ///
    /// The corresponding C functions are `tracefs_synth_show_start_hist` and `tracefs_synth_show_end_hist`.
    public var triggers: (start: String, end: String)? {
        lock.withLock { _ in
            guard let start = tracefs_synth_show_start_hist(pointer), let end = tracefs_synth_show_end_hist(pointer) else {
                return nil
            }
            return (String(cString: start), String(cString: end))
        }
    }
}

extension DynamicEvent {
    /// The events of `kinds` in `system`, or none when they cannot be listed.
    static func all(_ kinds: Kinds, systemOrNil system: String) -> [DynamicEvent] {
        (try? all(kinds, system: system)) ?? []
    }
}

// Sendable: `pointer` and `name` never change, and every libtracefs call on the descriptor is
// serialized by `lock`.
extension SyntheticEvent: @unchecked Sendable {}
