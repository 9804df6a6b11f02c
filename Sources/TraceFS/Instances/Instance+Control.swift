import CTraceFS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Instance {
    /// Enables an event, every event of a system, or (both `nil`) every event, in this instance.
    ///
    /// Names are matched exactly and case-sensitively: `audit/ev` never switches `AUDIT/ev`.
    ///
    /// - Parameters:
    ///   - system: The event's system (group), or `nil` for all systems.
    ///   - event: The event's name, or `nil` for every event of `system`.
    /// - Throws: ``TraceFSError`` with `notFound` when no event matches.
    ///
    /// Writes `1` to the instance's `events/[system/[event/]]enable` file. (The C function
    /// `tracefs_event_enable` takes regular expressions, which libtracefs 1.6.4 compiles with
    /// `REG_ICASE`, so it would also switch events whose names differ only in case.)
    public func enableEvent(system: String?, event: String?) throws(TraceFSError) {
        try switchEvent(on: true, system: system, event: event)
    }

    /// Disables an event, every event of a system, or (both `nil`) every event, in this instance.
    ///
    /// Names are matched exactly, as in ``enableEvent(system:event:)``.
    ///
    /// Writes `0` to the instance's `events/[system/[event/]]enable` file, in place of the
    /// case-insensitive `tracefs_event_disable`.
    public func disableEvent(system: String?, event: String?) throws(TraceFSError) {
        try switchEvent(on: false, system: system, event: event)
    }

    /// Whether the event is enabled in this instance. Names are matched exactly.
    ///
    /// Reads the instance's `events/system/event/enable`, in place of the case-insensitive
    /// `tracefs_event_is_enabled`.
    public func isEventEnabled(system: String, event: String) throws(TraceFSError) -> Bool {
        let operation = "read whether \(ProbeInput.display(system))/\(ProbeInput.display(event)) is enabled in the \(description)"
        let input = ProbeInput(operation: operation)
        try input.name(system, as: "system")
        try input.name(event, as: "event")
        let path = try eventsDirectory(for: operation) + "/\(system)/\(event)/enable"
        guard let state = KernelFile.read(path) else {
            let error = currentErrno()
            throw TraceFSError(error == ENOENT ? .notFound : .from(errno: error), operation: operation,
                               reason: error == ENOENT ? "there is no such event" : "its enable file could not be read",
                               function: "read", errno: reportableErrno(error))
        }
        // "1", or "1*" while a trigger soft-disables it.
        return state.hasPrefix("1")
    }

    /// The instance's `events` directory.
    private func eventsDirectory(for operation: @autoclosure () -> String) throws(TraceFSError) -> String {
        guard let directory else {
            throw TraceFSError(.notFound, operation: operation(), reason: "the instance's directory is unknown",
                               function: "tracefs_instance_get_dir")
        }
        return directory + "/events"
    }

    private func switchEvent(on: Bool, system: String?, event: String?) throws(TraceFSError) {
        let what = "\(system.map(ProbeInput.display) ?? "*")/\(event.map(ProbeInput.display) ?? "*")"
        let operation = "\(on ? "enable" : "disable") \(what) in the \(description)"
        let input = ProbeInput(operation: operation)
        if let system { try input.name(system, as: "system") }
        if let event { try input.name(event, as: "event") }
        let events = try eventsDirectory(for: operation)
        let paths: [String]
        switch (system, event) {
        case let (system?, event?): paths = ["\(events)/\(system)/\(event)/enable"]
        case let (system?, nil): paths = ["\(events)/\(system)/enable"]
        case (nil, nil): paths = ["\(events)/enable"]
        case let (nil, event?):
            paths = (ControlFile.subdirectories(of: events) ?? []).map { "\(events)/\($0)/\(event)/enable" }
                .filter(KernelFile.exists)
        }
        guard !paths.isEmpty else {
            throw TraceFSError(.notFound, operation: operation, reason: "no event matches \(what)")
        }
        for path in paths {
            let error = ControlFile.write(path, on ? "1" : "0")
            guard error == 0 else {
                let code: TraceFSError.Code = error == ENOENT ? .notFound : .from(errno: error)
                throw TraceFSError(code, operation: operation,
                                   reason: code == .notFound ? "no event matches \(what)" : "the kernel refused",
                                   function: "write", errno: error)
            }
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
    /// - Throws: ``TraceFSError`` with `invalidArgument` for a `cpu` that is not one of the
    ///   kernel's possible CPUs (it has no `per_cpu/cpuN` directory).
    ///
    /// The corresponding C function is `tracefs_instance_get_buffer_size`.
    public func bufferSize(cpu: Int? = nil) throws(TraceFSError) -> Int {
        try checkCPU(cpu, operation: "read the buffer size of the \(description)")
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
    /// - Throws: ``TraceFSError`` with `invalidArgument` for a size that is not positive or a `cpu`
    ///   that is not one of the kernel's possible CPUs.
    ///
    /// The corresponding C function is `tracefs_instance_set_buffer_size`.
    public func setBufferSize(kilobytes: Int, cpu: Int? = nil) throws(TraceFSError) {
        let operation = "set the buffer size of the \(description) to \(kilobytes) KiB"
        guard kilobytes > 0 else {
            throw TraceFSError(.invalidArgument, operation: operation, reason: "the size must be positive")
        }
        try checkCPU(cpu, operation: operation)
        let result = withClearedErrno { tracefs_instance_set_buffer_size(pointer, kilobytes, Int32(cpu ?? -1)) }
        guard result == 0 else {
            let error = currentErrno()
            throw TraceFSError(.from(errno: error), operation: operation,
                               reason: error == ENOMEM ? "the kernel could not allocate that much" : "the kernel refused",
                               function: "tracefs_instance_set_buffer_size", errno: reportableErrno(error))
        }
    }

    /// Refuses a CPU number that the kernel has no buffer for (libtracefs would treat a negative
    /// one as "all CPUs", and Swift traps converting one beyond `Int32`).
    private func checkCPU(_ cpu: Int?, operation: @autoclosure () -> String) throws(TraceFSError) {
        guard let cpu else { return }
        let directory = try eventsDirectory(for: operation()).dropLast("/events".count)
        guard cpu >= 0, cpu <= Int(Int32.max), KernelFile.isDirectory("\(directory)/per_cpu/cpu\(cpu)") else {
            let count = ControlFile.subdirectories(of: "\(directory)/per_cpu")?.count ?? 0
            throw TraceFSError(.invalidArgument, operation: operation(),
                               reason: "cpu \(cpu) is not one of the kernel's \(count) possible CPUs (0 to \(count - 1)); "
                                   + "pass nil for all CPUs")
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
