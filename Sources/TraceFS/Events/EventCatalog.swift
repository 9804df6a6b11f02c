import CTraceFS
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The formats of the kernel's trace events, parsed by libtraceevent: the handle that turns raw
/// ring-buffer records into events and fields.
///
/// Build it after creating the dynamic events you want to read: it knows the events that existed
/// when it was loaded.
///
/// ```swift
/// let catalog = try EventCatalog.local(systems: ["ftrace", "my_kprobes"])
/// let print = try catalog.event(system: "ftrace", name: "print")
/// print(print.fields.map(\.name))   // ["ip", "buf"]
/// ```
public final class EventCatalog {
    let handle: OpaquePointer
    /// Formats already looked up, by kernel event id: reading records asks once per event id.
    private let formats = Mutex<[Int32: EventFormat]>([:])
    /// Guards libtraceevent's pid-to-command table, which reloading rewrites.
    private let commands = Mutex(())
    let tracingDirectory: String

    private init(handle: OpaquePointer, tracingDirectory: String) {
        self.handle = handle
        self.tracingDirectory = tracingDirectory
    }

    deinit {
        tep_free(handle)
    }

    /// Loads the formats of every local event, or of the events of `systems`, and the saved
    /// pid-to-command table.
    ///
    /// - Parameter systems: The systems to load, or `nil` for all (slower: a kernel has
    ///   thousands of events).
    /// - Throws: ``TraceFSError``: `notMounted` or `permissionDenied` when tracefs cannot be
    ///   read, `notFound` when none of `systems` exists.
    ///
    /// The corresponding C functions are `tracefs_local_events`, `tracefs_local_events_system` and
    /// `tracefs_load_cmdlines`.
    public static func local(systems: [String]? = nil) throws(TraceFSError) -> EventCatalog {
        let operation = "load the formats of " + (systems.map { "the \($0.joined(separator: ", ")) events" } ?? "all events")
        let input = ProbeInput(operation: operation)
        for system in systems ?? [] { try input.name(system, as: "system") }
        let directory = try TracingDirectory.path(for: operation)
        let handle: OpaquePointer? = withClearedErrno {
            guard let systems else { return tracefs_local_events(directory) }
            return withCStringArray(systems) { tracefs_local_events_system(directory, $0) }
        }
        guard let handle else {
            let error = currentErrno()
            throw TraceFSError(
                .from(errno: error == 0 ? ENOENT : error), operation: operation,
                reason: "libtraceevent could not read the event formats under \(directory)/events",
                function: systems == nil ? "tracefs_local_events" : "tracefs_local_events_system",
                errno: reportableErrno(error))
        }
        let catalog = EventCatalog(handle: handle, tracingDirectory: directory)
        if let systems {
            for system in systems where !KernelFile.isDirectory("\(directory)/events/\(system)") {
                throw TraceFSError(.notFound, operation: operation,
                                   reason: "there is no event system '\(system)'; create its events first")
            }
        }
        catalog.reloadCommands()
        return catalog
    }

    /// The format of `system/name`.
    ///
    /// - Throws: ``TraceFSError`` with `notFound` when the catalog has no such event.
    ///
    /// The corresponding C function is `tep_find_event_by_name`.
    public func event(system: String, name: String) throws(TraceFSError) -> EventFormat {
        guard let event = tep_find_event_by_name(handle, system, name) else {
            throw TraceFSError(.notFound, operation: "look up event \(system)/\(name)",
                               reason: "the catalog has no such event; load its system, and load the catalog "
                                   + "after creating dynamic events")
        }
        return format(for: event)
    }

    /// The cached format of a parsed event.
    func format(for event: UnsafeMutablePointer<tep_event>) -> EventFormat {
        let id = event.pointee.id
        if let known = formats.withLock({ $0[id] }) { return known }
        let format = EventFormat(event)
        formats.withLock { $0[id] = format }
        return format
    }

    /// The command name the kernel saved for `pid`, if any.
    ///
    /// The corresponding C function is `tep_data_comm_from_pid`.
    public func command(forPID pid: Int32) -> String? {
        commands.withLock { _ in
            guard let name = tep_data_comm_from_pid(handle, pid) else { return nil }
            let text = String(cString: name)
            return text == "<...>" ? nil : text
        }
    }

    /// Rereads the kernel's saved command lines; record readers do this before each pass, so that
    /// tasks that started after the catalog was loaded have names. Without them, records still
    /// carry pids and ``command(forPID:)`` is `nil`.
    ///
    /// The corresponding C function is `tracefs_load_cmdlines`.
    func reloadCommands() {
        commands.withLock { _ in _ = tracefs_load_cmdlines(tracingDirectory, handle) }
    }
}

// Sendable: the libtraceevent handle's event formats are only read after loading; its
// pid-to-command table, which reloading rewrites, is only touched under `commands`; the format
// cache is behind its own Mutex.
extension EventCatalog: @unchecked Sendable {}

/// Calls `body` with a NULL-terminated `const char *const *` of `strings`.
func withCStringArray<Result>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> Result) -> Result {
    let copies = strings.map { strdup($0) }
    defer { for copy in copies { free(copy) } }
    var pointers = copies.map { UnsafePointer($0) }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
