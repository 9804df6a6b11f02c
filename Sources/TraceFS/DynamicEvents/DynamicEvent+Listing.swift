import CTraceFS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension DynamicEvent {
    /// The dynamic events the kernel has now.
    ///
    /// - Parameters:
    ///   - kinds: Which kinds to list.
    ///   - system: Only events of this group, or all groups when `nil`.
    /// - Returns: One ``DynamicEvent`` per kernel event, of the right kind. (libtracefs 1.6.4 tells
    ///   kinds apart by the definition's prefix alone, so it lists a uprobe from `dynamic_events`
    ///   as a kprobe too; this overlay drops such misreadings.)
    ///
    /// The corresponding C function is `tracefs_dynevent_get_all`.
    public static func all(_ kinds: Kinds = .all, system: String? = nil) throws(TraceFSError) -> [DynamicEvent] {
        let operation = "list dynamic events" + (system.map { " of group \(ProbeInput.display($0))" } ?? "")
        if let system { try ProbeInput(operation: operation).name(system, as: "group") }
        let directory = try TracingDirectory.path(for: operation)
        // Under the lock: the kernel lists events in chunks, and an event this process creates or
        // removes between two chunks could be skipped. (Other processes' changes can still race.)
        let listed = LibraryLock.withLock { withClearedErrno { tracefs_dynevent_get_all(kinds.rawValue, system) } }
        guard let list = listed else {
            let error = currentErrno()
            if error == ENOMEM {
                throw TraceFSError(.outOfMemory, operation: operation, reason: "libtracefs ran out of memory",
                                   function: "tracefs_dynevent_get_all", errno: error)
            }
            return []  // libtracefs returns NULL when there are none
        }
        // Each descriptor becomes a DynamicEvent that frees it; only the array itself is freed here.
        defer { free(list) }
        var events: [DynamicEvent] = []
        var seen = Set<String>()
        var userProbes = UserProbeNames(tracingDirectory: directory)
        var index = 0
        var failure: TraceFSError?
        while let pointer = list[index] {
            index += 1
            do {
                let event = try DynamicEvent(taking: pointer, operation: operation)
                // libtracefs matches the group as a case-insensitive pattern: keep only exact names.
                if system == nil || event.system == system,
                   !userProbes.isMisreported(event), seen.insert("\(event.kind)|\(event.system)/\(event.event)").inserted {
                    events.append(event)
                }
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return events
    }

    /// The kernel's event of `kind` named `system/event`, or `nil` when there is none.
    ///
    /// Names are compared exactly (`A/b` is not `a/b`).
    ///
    /// - Parameters:
    ///   - kind: The kind of event.
    ///   - system: The group, or `nil` for any group.
    ///   - event: The event name.
    ///
    /// Built on `tracefs_dynevent_get_all`: `tracefs_dynevent_get` returns the first event of that
    /// name in any group, which libtracefs 1.6.4 may take for another kind (a uprobe for a
    /// kprobe), and compares names case-insensitively.
    public static func find(_ kind: Kind, system: String?, event: String) throws(TraceFSError) -> DynamicEvent? {
        let operation = "find \(kind) \(system.map(ProbeInput.display) ?? "*")/\(ProbeInput.display(event))"
        let input = ProbeInput(operation: operation)
        if let system { try input.name(system, as: "group") }
        try input.name(event, as: "event")
        return try all(Kinds(kind), system: system).first { $0.kind == kind && $0.event == event }
    }

    /// Removes the kernel's dynamic events of `kinds`.
    ///
    /// - Parameters:
    ///   - kinds: Which kinds to remove.
    ///   - system: Only this group's events. **With `nil`, every tool's events of these kinds
    ///     are removed**, as the C call does; pass your own group to leave other tools alone.
    ///   - force: Disable enabled events first instead of failing with `busy`.
    /// - Throws: ``TraceFSError`` for the first event that could not be removed; the others are
    ///   still attempted.
    ///
    /// The corresponding C function is `tracefs_dynevent_destroy_all` (without a system), or
    /// ``destroy(_:force:)`` on the group's events.
    public static func destroyAll(_ kinds: Kinds = .all, system: String? = nil, force: Bool = false) throws(TraceFSError) {
        guard let system else {
            try KernelWrite.perform("tracefs_dynevent_destroy_all", operation: "destroy all dynamic events", kinds: kinds,
                                    subject: "every event", command: nil, absentIsSuccess: true) { _ in
                tracefs_dynevent_destroy_all(kinds.rawValue, force)
            }
            return
        }
        try destroy(all(kinds, system: system), force: force)
    }
}
