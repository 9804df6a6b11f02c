import CTraceFS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Instance {
    /// Makes the kernel record `system/event` in this instance only when `filter` holds.
    ///
    /// Every field and type in `filter` is checked against the event's format first, and the text
    /// is built and parsed back by libtracefs; nothing is written until all of that passed.
    ///
    /// ```swift
    /// let instance = try Instance.create(named: "opens")
    /// try instance.setFilter(EventFilter.field("common_pid") == 1, system: "sched", event: "sched_process_exec")
    /// try instance.clearFilter(system: "sched", event: "sched_process_exec")
    /// try instance.destroy()
    /// ```
    ///
    /// - Parameters:
    ///   - filter: The condition.
    ///   - system: The event's system, such as `syscalls`.
    ///   - event: The event, such as `sys_enter_openat`.
    ///   - catalog: The formats to check against; `nil` loads those of `system`.
    /// - Returns: The filter's text as written.
    /// - Throws: ``TraceFSError``: `invalidArgument` naming the event's real fields for an unknown
    ///   field or a string compared with a number (nothing written); `notFound` for an unknown
    ///   event; `invalidArgument` with the kernel's own message when the kernel refuses it.
    ///
    /// The corresponding C functions are `tracefs_filter_string_append`,
    /// `tracefs_filter_string_verify` and `tracefs_event_filter_apply`.
    @discardableResult
    public func setFilter(
        _ filter: EventFilter, system: String, event: String, catalog: EventCatalog? = nil
    ) throws(TraceFSError) -> String {
        let operation = "set filter on \(system)/\(event) in the \(description)"
        let catalog = try EventCatalog.given(catalog, system: system, operation: operation)
        let (parsed, format) = try catalog.parsedEvent(system: system, name: event, operation: operation)
        let text = try FilterCompiler(event: parsed, format: format, operation: operation).text(of: filter)
        let result = withDescriptor { pointer in withClearedErrno { tracefs_event_filter_apply(pointer, parsed, text) } }
        guard result >= 0 else {
            let error = currentErrno()
            // The kernel shows why it refused the filter in the event's filter file; read that, then
            // put the event back to no filter so that the refusal leaves nothing behind.
            let message = kernelFilterError(system: system, event: event)
            withDescriptor { pointer in _ = tracefs_event_filter_clear(pointer, parsed) }
            throw TraceFSError(
                message == nil ? TraceFSError.Code.from(errno: error) : .invalidArgument, operation: operation,
                reason: "the kernel refused the filter '\(text)'", function: "tracefs_event_filter_apply",
                errno: reportableErrno(error), kernelMessage: message)
        }
        return text
    }

    /// Removes the filter of `system/event` in this instance: the kernel records every occurrence
    /// again.
    ///
    /// - Throws: ``TraceFSError``: `notFound` for an unknown event.
    ///
    /// The corresponding C function is `tracefs_event_filter_clear`.
    public func clearFilter(system: String, event: String, catalog: EventCatalog? = nil) throws(TraceFSError) {
        let operation = "clear the filter on \(system)/\(event) in the \(description)"
        let catalog = try EventCatalog.given(catalog, system: system, operation: operation)
        let (parsed, _) = try catalog.parsedEvent(system: system, name: event, operation: operation)
        let result = withDescriptor { pointer in withClearedErrno { tracefs_event_filter_clear(pointer, parsed) } }
        guard result >= 0 else {
            let error = currentErrno()
            throw TraceFSError(.from(errno: error), operation: operation, reason: "the kernel did not clear the filter",
                               function: "tracefs_event_filter_clear", errno: reportableErrno(error))
        }
    }

    /// The filter the kernel applies to `system/event` in this instance, as it shows it; `nil`
    /// when there is none.
    ///
    /// The corresponding C function is `tracefs_event_file_read`.
    public func filter(system: String, event: String) throws(TraceFSError) -> String? {
        let operation = "read the filter of \(system)/\(event) in the \(description)"
        let input = ProbeInput(operation: operation)
        try input.name(system, as: "system")
        try input.name(event, as: "event")
        guard let text = eventFile(system: system, event: event, file: "filter") else {
            throw TraceFSError(.notFound, operation: operation, reason: "there is no such event")
        }
        let trimmed = text.trimmingSuffix("\n")
        return trimmed == "none" ? nil : trimmed
    }

    /// The text of `events/system/event/file` of this instance, or `nil` when it cannot be read.
    func eventFile(system: String, event: String, file: String) -> String? {
        withDescriptor { pointer in
            var size: Int32 = 0
            guard let text = tracefs_event_file_read(pointer, system, event, file, &size) else { return nil }
            defer { free(text) }
            return String(cString: text)
        }
    }

    /// The kernel's "parse_error: ..." for the last filter written, with the column it points at.
    private func kernelFilterError(system: String, event: String) -> String? {
        guard let text = eventFile(system: system, event: event, file: "filter") else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let errorLine = lines.first(where: { $0.hasPrefix("parse_error: ") }) else { return nil }
        let message = errorLine.dropFirst("parse_error: ".count)
        if let caret = lines.first(where: { $0.hasSuffix("^") && $0.allSatisfy { $0 == " " || $0 == "^" } }) {
            return "\(message) (at column \(caret.count - 1) of '\(lines[0])')"
        }
        return String(message)
    }
}
