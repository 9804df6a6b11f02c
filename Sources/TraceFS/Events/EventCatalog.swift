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
/// Build it after creating the dynamic events you want to look up by name. Records of events it did
/// not know when it was loaded are still read: it learns an event from its `format` file the first
/// time a record or a lookup names it, and notices when the kernel has given a destroyed event's id
/// to a new one. One catalog can be shared by any number of threads and reads.
///
/// ```swift
/// let catalog = try EventCatalog.local(systems: ["ftrace"])
/// let printEvent = try catalog.event(system: "ftrace", name: "print")
/// print(printEvent.fields.map(\.name))   // ["ip", "buf"]
/// ```
public final class EventCatalog {
    /// The libtraceevent handle, which is not thread-safe even for lookups (`tep_find_event` writes
    /// `tep->last_event`): only ``withHandle(_:)`` reaches it, one thread at a time. Lookups by id and
    /// name use ``known`` instead, so they never wait for a read that holds the handle.
    private nonisolated(unsafe) let handle: OpaquePointer
    private let handleLock = PthreadMutex(())
    /// Formats by id and name, and what was parsed at load.
    let known: PthreadMutex<KnownEvents>
    /// The formats by id that `known` holds, for lookups without its lock.
    let slots = FormatSlots()
    /// The reading pass, incremented before each (``allowCommandReload()``): a format is rechecked
    /// against its event's `id` file once per pass.
    let pass = Atomic<UInt64>(0)
    /// The kernel's saved pid-to-command table. It is parsed here rather than loaded into the
    /// libtraceevent handle: `tracefs_load_cmdlines` adds about 1 KiB to the handle on every call,
    /// so reloading it while following a buffer would grow without bound.
    private let commands = PthreadMutex(CommandTable())

    struct CommandTable {
        var names: [Int32: String] = [:]
        /// Pids that neither `saved_cmdlines` nor `/proc` named since the last reload.
        var unnamed: Set<Int32> = []
        /// Whether a miss may reread the file: once per reading pass, so that a pid the kernel
        /// never saved does not cost a file read per record.
        var mayReload = true
    }
    let tracingDirectory: String

    private init(handle: OpaquePointer, tracingDirectory: String) {
        self.handle = handle
        known = PthreadMutex(KnownEvents(handle: handle, slots: slots))
        self.tracingDirectory = tracingDirectory
    }

    deinit {
        tep_free(handle)
    }

    /// Runs `body` with the libtraceevent handle, which no other thread uses meanwhile. Not
    /// reentrant: `body` must not call it again.
    func withHandle<Result, Failure: Error>(_ body: (OpaquePointer) throws(Failure) -> Result) throws(Failure) -> Result {
        try handleLock.withLock { _ throws(Failure) in try body(handle) }
    }

    /// Loads the formats of every local event, or of the events of `systems`: the same as
    /// ``local(systems:)``.
    ///
    /// - Parameter systems: The systems to load, or `nil` for all (slower: a kernel has
    ///   thousands of events). A ``TraceSession``'s ``TraceSession/catalog(otherSystems:)`` loads
    ///   just its own events.
    /// - Throws: ``TraceFSError``: `notMounted` or `permissionDenied` when tracefs cannot be
    ///   read, `notFound` when none of `systems` exists.
    public convenience init(systems: [String]? = nil) throws(TraceFSError) {
        let operation = "load the formats of " + (systems.map { "the \($0.joined(separator: ", ")) events" } ?? "all events")
        let input = ProbeInput(operation: operation)
        for system in systems ?? [] { try input.name(system, as: "system") }
        let directory = try TracingDirectory.path(for: operation)
        for system in systems ?? [] where !KernelFile.isDirectory("\(directory)/events/\(system)") {
            throw TraceFSError(.notFound, operation: operation,
                               reason: "there is no event system '\(system)'; create its events first")
        }
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
        self.init(handle: handle, tracingDirectory: directory)
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
        try EventCatalog(systems: systems)
    }

    /// The format of `system/name`: as loaded, or learned from the event's `format` file when the
    /// event was created after the catalog was loaded or has been recreated since.
    ///
    /// - Throws: ``TraceFSError`` with `notFound` when the kernel has no such event.
    ///
    /// The corresponding C function is `tep_parse_format` (for an event learned after loading).
    public func event(system: String, name: String) throws(TraceFSError) -> EventFormat {
        if let format = format(system: system, name: name) { return format }
        throw TraceFSError(.notFound, operation: "look up event \(system)/\(name)",
                           reason: "the kernel has no such event (\(tracingDirectory)/events/\(system)/\(name)); "
                               + "create it first, and check the system and event names")
    }

    /// The format for a parsed event of the handle, as ``format(forEventID:)`` knows its id now.
    func format(for event: UnsafeMutablePointer<tep_event>) -> EventFormat {
        format(forEventID: event.pointee.id) ?? known.withLock { state in
            let format = EventFormat(event)
            state.retired.append(format)
            return format
        }
    }

    /// The name of the process or thread `pid`: the one the kernel saved for its records
    /// (`saved_cmdlines`: tasks that ran while events were enabled), else, for a task still alive,
    /// its current `/proc/<pid>/comm`.
    public func command(forPID pid: Int32) -> String? {
        commands.withLock { table in
            if let name = table.names[pid] { return name }
            if table.mayReload {
                table.mayReload = false
                table.names = Self.savedCommands(in: tracingDirectory)
                table.unnamed = []
                if let name = table.names[pid] { return name }
            }
            guard !table.unnamed.contains(pid) else { return nil }
            guard let name = Self.liveCommand(of: pid) else {
                table.unnamed.insert(pid)
                return nil
            }
            table.names[pid] = name
            return name
        }
    }

    /// Starts a reading pass; record readers call this before each pass. The next unknown pid may
    /// reread the saved command lines (tasks that started since have names), and each event id
    /// met in the pass is checked once against its event's `id` file (the kernel gives a destroyed
    /// event's id to the next event created).
    func allowCommandReload() {
        commands.withLock { $0.mayReload = true }
        pass.add(1, ordering: .relaxed)
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

    /// `/proc/<pid>/comm` of a live task (a thread id works too), without its newline.
    static func liveCommand(of pid: Int32) -> String? {
        guard pid > 0, let text = KernelFile.read("/proc/\(pid)/comm"), text.hasSuffix("\n") else { return nil }
        return String(text.dropLast())
    }
}

// Sendable: the libtraceevent handle is used only under `handleLock` (libtraceevent writes to it even
// in lookups);
// the formats it parsed at load are only read (their pointers in `KnownEvents`, behind another lock);
// the known formats and the command table are each behind a lock (a `PthreadMutex`, which
// ThreadSanitizer understands); `slots` and `pass` are Sendable;
// `tracingDirectory` is a constant.
extension EventCatalog: @unchecked Sendable {}

/// Calls `body` with a NULL-terminated `const char *const *` of `strings`.
func withCStringArray<Result>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> Result) -> Result {
    let copies = strings.map { strdup($0) }
    defer { for copy in copies { free(copy) } }
    var pointers = copies.map { UnsafePointer($0) }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
