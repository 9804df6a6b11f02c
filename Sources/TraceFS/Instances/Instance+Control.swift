import CTraceFS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Instance {
    /// Enables an event, every event of a system, or (both `nil`) every event, in this instance.
    ///
    /// - Parameters:
    ///   - system: The event's system (group), or `nil` for all systems.
    ///   - event: The event's name, or `nil` for every event of `system`.
    /// - Throws: ``TraceFSError`` with `notFound` when no event matches.
    ///
    /// The corresponding C function is `tracefs_event_enable`; its arguments are regular
    /// expressions there, so this overlay accepts only plain names.
    public func enableEvent(system: String?, event: String?) throws(TraceFSError) {
        try switchEvent(on: true, system: system, event: event)
    }

    /// Disables an event, every event of a system, or (both `nil`) every event, in this instance.
    ///
    /// The corresponding C function is `tracefs_event_disable`.
    public func disableEvent(system: String?, event: String?) throws(TraceFSError) {
        try switchEvent(on: false, system: system, event: event)
    }

    /// Whether the event is enabled in this instance.
    ///
    /// The corresponding C function is `tracefs_event_is_enabled`.
    public func isEventEnabled(system: String, event: String) throws(TraceFSError) -> Bool {
        let operation = "read whether \(system)/\(event) is enabled in the \(description)"
        let input = ProbeInput(operation: operation)
        try input.name(system, as: "system")
        try input.name(event, as: "event")
        let state = withClearedErrno { tracefs_event_is_enabled(pointer, system, event) }
        guard state != TRACEFS_ERROR else {
            let error = currentErrno()
            throw TraceFSError(.notFound, operation: operation, reason: "there is no such event",
                               function: "tracefs_event_is_enabled", errno: reportableErrno(error))
        }
        return state == TRACEFS_ALL_ENABLED
    }

    private func switchEvent(on: Bool, system: String?, event: String?) throws(TraceFSError) {
        let what = "\(system ?? "*")/\(event ?? "*")"
        let operation = "\(on ? "enable" : "disable") \(what) in the \(description)"
        let input = ProbeInput(operation: operation)
        if let system { try input.name(system, as: "system") }
        if let event { try input.name(event, as: "event") }
        let result = withClearedErrno {
            on ? tracefs_event_enable(pointer, system, event) : tracefs_event_disable(pointer, system, event)
        }
        guard result == 0 else {
            let error = currentErrno()
            let code: TraceFSError.Code = error == 0 || error == ENOENT ? .notFound : .from(errno: error)
            throw TraceFSError(code, operation: operation,
                               reason: code == .notFound ? "no event matches \(what)" : "the kernel refused",
                               function: on ? "tracefs_event_enable" : "tracefs_event_disable",
                               errno: reportableErrno(error))
        }
    }

    /// Whether the instance's ring buffer is recording (`tracing_on`).
    ///
    /// The corresponding C function is `tracefs_trace_is_on`.
    public func isTracingOn() throws(TraceFSError) -> Bool {
        let result = withClearedErrno { tracefs_trace_is_on(pointer) }
        guard result >= 0 else {
            let error = currentErrno()
            throw TraceFSError(.from(errno: error), operation: "read tracing_on of the \(description)",
                               reason: "the file could not be read", function: "tracefs_trace_is_on",
                               errno: reportableErrno(error))
        }
        return result == 1
    }

    /// Turns recording into the instance's ring buffer on or off (`tracing_on`).
    ///
    /// The corresponding C functions are `tracefs_trace_on` and `tracefs_trace_off`.
    public func setTracing(on: Bool) throws(TraceFSError) {
        let result = withClearedErrno { on ? tracefs_trace_on(pointer) : tracefs_trace_off(pointer) }
        guard result == 0 else {
            let error = currentErrno()
            throw TraceFSError(.from(errno: error), operation: "turn tracing \(on ? "on" : "off") in the \(description)",
                               reason: "the kernel refused", function: on ? "tracefs_trace_on" : "tracefs_trace_off",
                               errno: reportableErrno(error))
        }
    }

    /// The ring buffer's size in KiB, as the kernel allocated it (it rounds a requested size up
    /// to whole pages with their headers).
    ///
    /// - Parameter cpu: One CPU's buffer, or `nil` for all CPUs' buffers together.
    ///
    /// The corresponding C function is `tracefs_instance_get_buffer_size`.
    public func bufferSize(cpu: Int? = nil) throws(TraceFSError) -> Int {
        let result = withClearedErrno { tracefs_instance_get_buffer_size(pointer, Int32(cpu ?? -1)) }
        guard result >= 0 else {
            let error = currentErrno()
            throw TraceFSError(.from(errno: error), operation: "read the buffer size of the \(description)",
                               reason: "the file could not be read", function: "tracefs_instance_get_buffer_size",
                               errno: reportableErrno(error))
        }
        return Int(result)
    }

    /// Sets the ring buffer's size per CPU.
    ///
    /// - Parameters:
    ///   - kilobytes: The size of each CPU's buffer in KiB.
    ///   - cpu: One CPU's buffer, or `nil` for every CPU.
    ///
    /// The corresponding C function is `tracefs_instance_set_buffer_size`.
    public func setBufferSize(kilobytes: Int, cpu: Int? = nil) throws(TraceFSError) {
        let operation = "set the buffer size of the \(description) to \(kilobytes) KiB"
        guard kilobytes > 0 else {
            throw TraceFSError(.invalidArgument, operation: operation, reason: "the size must be positive")
        }
        let result = withClearedErrno { tracefs_instance_set_buffer_size(pointer, kilobytes, Int32(cpu ?? -1)) }
        guard result == 0 else {
            let error = currentErrno()
            throw TraceFSError(.from(errno: error), operation: operation,
                               reason: error == ENOMEM ? "the kernel could not allocate that much" : "the kernel refused",
                               function: "tracefs_instance_set_buffer_size", errno: reportableErrno(error))
        }
    }

    /// Empties the instance's ring buffer.
    ///
    /// The corresponding C function is `tracefs_instance_file_clear` on `trace`.
    public func clear() throws(TraceFSError) {
        guard withClearedErrno({ tracefs_instance_file_clear(pointer, "trace") }) == 0 else {
            let error = currentErrno()
            throw TraceFSError(.from(errno: error), operation: "clear the \(description)",
                               reason: "the kernel refused", function: "tracefs_instance_file_clear",
                               errno: reportableErrno(error))
        }
    }
}
