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
    /// The kernel's saved pid-to-command table. It is parsed here rather than loaded into the
    /// libtraceevent handle: `tracefs_load_cmdlines` adds about 1 KiB to the handle on every call,
    /// so reloading it while following a buffer would grow without bound.
    private let commands = Mutex(CommandTable())

    struct CommandTable {
        var names: [Int32: String] = [:]
        /// Whether a miss may reread the file: once per reading pass, so that a pid the kernel
        /// never saved does not cost a file read per record.
        var mayReload = true
    }
    let tracingDirectory: String

    private init(handle: OpaquePointer, tracingDirectory: String) {
        self.handle = handle
        self.tracingDirectory = tracingDirectory
    }

    deinit {
        tep_free(handle)
    }

    /// Loads the formats of every local event, or of the events of `systems`.
    ///
    /// - Parameter systems: The systems to load, or `nil` for all (slower: a kernel has
    ///   thousands of events).
    /// - Throws: ``TraceFSError``: `notMounted` or `permissionDenied` when tracefs cannot be
    ///   read, `notFound` when none of `systems` exists.
    ///
    /// The corresponding C functions are `tracefs_local_events` and `tracefs_local_events_system`.
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

    /// The command name the kernel saved for `pid` (`saved_cmdlines`), if any. The kernel saves
    /// names of tasks that ran while events were enabled; without one, records still carry pids.
    public func command(forPID pid: Int32) -> String? {
        commands.withLock { table in
            if let name = table.names[pid] { return name }
            guard table.mayReload else { return nil }
            table.mayReload = false
            table.names = Self.savedCommands(in: tracingDirectory)
            return table.names[pid]
        }
    }

    /// Lets the next unknown pid reread the saved command lines; record readers call this before
    /// each pass, so that tasks that started after the catalog was loaded have names.
    func allowCommandReload() {
        commands.withLock { $0.mayReload = true }
    }

    /// "1234 cat" lines of `saved_cmdlines`.
    static func savedCommands(in directory: String) -> [Int32: String] {
        var names: [Int32: String] = [:]
        for line in (KernelFile.read(directory + "/saved_cmdlines") ?? "").split(separator: "\n") {
            guard let space = line.firstIndex(of: " "), let pid = Int32(line[..<space]) else { continue }
            let name = line[line.index(after: space)...]
            if name != "<...>" { names[pid] = String(name) }
        }
        return names
    }
}

// Sendable: the libtraceevent handle is only read after loading (event lookup does not modify it);
// the format cache and the command table are each behind a Mutex.
extension EventCatalog: @unchecked Sendable {}

/// Calls `body` with a NULL-terminated `const char *const *` of `strings`.
func withCStringArray<Result>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> Result) -> Result {
    let copies = strings.map { strdup($0) }
    defer { for copy in copies { free(copy) } }
    var pointers = copies.map { UnsafePointer($0) }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
