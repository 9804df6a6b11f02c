import CTraceFS

extension EventCatalog {
    /// The format of the event whose kernel id is `id` (a record's `common_type`), or `nil` when
    /// the catalog has no such event.
    ///
    /// The corresponding C function is `tep_find_event`.
    func format(forEventID id: Int32) -> EventFormat? {
        guard let event = tep_find_event(handle, id) else { return nil }
        return format(for: event)
    }
}
