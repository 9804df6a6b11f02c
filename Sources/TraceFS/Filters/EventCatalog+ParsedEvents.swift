import CTraceFS

extension EventCatalog {
    /// The parsed event and its format, for libtracefs calls that take a `struct tep_event`.
    ///
    /// - Throws: ``TraceFSError`` with `notFound` when the catalog has no such event.
    func parsedEvent(system: String, name: String, operation: @autoclosure () -> String)
        throws(TraceFSError) -> (event: UnsafeMutablePointer<tep_event>, format: EventFormat)
    {
        // The tep_event lives as long as the catalog; finding it writes the handle's last-event cache.
        guard let event = withHandle({ tep_find_event_by_name($0, system, name) }) else {
            throw TraceFSError(.notFound, operation: operation(),
                               reason: "there is no event \(system)/\(name) in the catalog; check its name in "
                                   + "available_events, and load the catalog after creating dynamic events")
        }
        return (event, format(for: event))
    }

    /// A catalog of `system` when none was given: the caller's, or one loaded now.
    static func given(_ catalog: EventCatalog?, system: String, operation: String)
        throws(TraceFSError) -> EventCatalog
    {
        if let catalog { return catalog }
        try ProbeInput(operation: operation).name(system, as: "system")
        return try EventCatalog.local(systems: [system])
    }
}
