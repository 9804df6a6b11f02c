import CTraceFS
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A tracing instance: its own ring buffer, event switches and `trace_marker`, under
/// `instances/<name>` of the tracing directory, or the top-level instance.
///
/// An `Instance` owns its libtracefs descriptor and frees it when it goes away. Removing the
/// kernel's instance is explicit (``destroy()``), or done at the end of a scope by
/// ``withTemporary(named:_:)``.
///
/// ```swift
/// try Instance.withTemporary(named: "myapp") { instance in
///     try instance.enableEvent(system: "sched", event: "sched_switch")
///     try instance.writeMarker("started")
/// }
/// ```
public final class Instance: CustomStringConvertible {
    /// `nil` for the top-level instance, which libtracefs addresses as NULL.
    let pointer: OpaquePointer?
    /// The instance's name; `nil` for the top-level instance.
    public let name: String?
    /// Guards the lazily opened `trace_marker` descriptor that `tracefs_printf` keeps.
    private let markerLock = Mutex(())
    /// The record readers following this instance, for ``stopFollowing()``.
    let followers = Mutex<[RecordReader]>([])

    private init(pointer: OpaquePointer?, name: String?) {
        self.pointer = pointer
        self.name = name
    }

    deinit {
        if let pointer {
            tracefs_print_close(pointer)
            tracefs_instance_free(pointer)
        }
    }

    /// An instance is a kernel object, so there is no plain initializer: say whether to create
    /// it, open an existing one, or use the top-level instance.
    @available(*, unavailable, message: """
        an instance is a kernel directory: use Instance.create(named:) (creates it, or opens it when it exists),         Instance.open(named:) (an existing one), Instance.withTemporary(named:_:) (removed at the end of a scope),         Instance.top, or a TraceSession's instance
        """)
    public convenience init(name: String) { fatalError("unavailable") }

    /// The top-level instance: the tracing directory itself.
    public static var top: Instance {
        get throws(TraceFSError) {
            _ = try TracingDirectory.path(for: "open the top-level trace instance")
            return Instance(pointer: nil, name: nil)
        }
    }

    /// Opens the instance `name`, creating it in the kernel when it does not exist.
    /// ``isNew`` tells which happened.
    ///
    /// - Throws: ``TraceFSError``: `invalidArgument` for a name the kernel cannot take,
    ///   `permissionDenied` when not root.
    ///
    /// The corresponding C function is `tracefs_instance_create`.
    public static func create(named name: String) throws(TraceFSError) -> Instance {
        let operation = "create trace instance \(ProbeInput.display(name))"
        try checkName(name, operation: operation)
        let directory = try TracingDirectory.path(for: operation)
        guard let pointer = withClearedErrno({ tracefs_instance_create(name) }) else {
            let error = currentErrno()
            let code = TraceFSError.Code.from(errno: error)
            throw TraceFSError(
                KernelFile.isDirectory(directory + "/instances") ? code : .unsupported,
                operation: operation,
                reason: code == .permissionDenied
                    ? "creating \(directory)/instances/\(name) needs root"
                    : "the kernel did not create the instance directory",
                function: "tracefs_instance_create", errno: reportableErrno(error))
        }
        return Instance(pointer: pointer, name: name)
    }

    /// Opens the existing instance `name` without creating it.
    ///
    /// - Throws: ``TraceFSError`` with `notFound` when there is no such instance.
    ///
    /// The corresponding C functions are `tracefs_instance_exists` and `tracefs_instance_alloc`.
    public static func open(named name: String) throws(TraceFSError) -> Instance {
        let operation = "open trace instance \(ProbeInput.display(name))"
        try checkName(name, operation: operation)
        _ = try TracingDirectory.path(for: operation)
        guard tracefs_instance_exists(name) else {
            throw TraceFSError(.notFound, operation: operation,
                               reason: "there is no such instance; create it with Instance.create(named:)")
        }
        guard let pointer = withClearedErrno({ tracefs_instance_alloc(nil, name) }) else {
            let error = currentErrno()
            throw TraceFSError(TraceFSError.Code.from(errno: error), operation: operation,
                               reason: "libtracefs could not open it", function: "tracefs_instance_alloc",
                               errno: reportableErrno(error))
        }
        return Instance(pointer: pointer, name: name)
    }

    /// The names of the kernel's instances.
    ///
    /// The corresponding C function is `tracefs_instances`.
    public static func names() throws(TraceFSError) -> [String] {
        _ = try TracingDirectory.path(for: "list trace instances")
        guard let list = tracefs_instances(nil) else { return [] }
        defer { tracefs_list_free(list) }
        var names: [String] = []
        var index = 0
        while let name = list[index] {
            names.append(String(cString: name))
            index += 1
        }
        return names
    }

    /// Creates the instance `name`, runs `body` with it, and removes the kernel's instance when
    /// `body` returns or throws. Events enabled in it are disabled with it.
    ///
    /// - Throws: ``TraceFSError`` when the instance exists already (it belongs to someone else)
    ///   or cannot be created; whatever `body` throws.
    public static func withTemporary<Result>(
        named name: String, _ body: (Instance) throws -> Result
    ) throws -> Result {
        let instance = try createNew(named: name)
        defer { try? instance.destroy() }
        return try body(instance)
    }

    /// The `async` form of `withTemporary(named:_:)`; the instance is also removed when the task
    /// is cancelled (cancellation reaches `body` as `CancellationError` from its awaits).
    public static func withTemporary<Result>(
        named name: String, isolation: isolated (any Actor)? = #isolation, _ body: (Instance) async throws -> Result
    ) async throws -> Result {
        let instance = try createNew(named: name)
        defer { try? instance.destroy() }
        return try await body(instance)
    }

    private static func createNew(named name: String) throws(TraceFSError) -> Instance {
        let instance = try create(named: name)
        guard instance.isNew else {
            throw TraceFSError(.alreadyExists, operation: "create trace instance \(ProbeInput.display(name))",
                               reason: "an instance of that name exists already and may belong to another tool; "
                                   + "choose another name")
        }
        return instance
    }

    /// Removes the kernel's instance (its directory). Removing it twice is safe.
    ///
    /// - Throws: ``TraceFSError``: `invalidArgument` for the top-level instance, `busy` when
    ///   something still holds the instance open.
    ///
    /// The corresponding C function is `tracefs_instance_destroy`.
    public func destroy() throws(TraceFSError) {
        let operation = "destroy \(description)"
        guard let pointer else {
            throw TraceFSError(.invalidArgument, operation: operation, reason: "the top-level instance cannot be removed")
        }
        // The kernel refuses to remove an instance whose files are open: close our marker, stop
        // our readers, and give a reader that is finishing its pass a moment (up to 0.5 s).
        markerLock.withLock { _ in tracefs_print_close(pointer) }
        stopFollowing()
        var attempts = 0
        while withClearedErrno({ tracefs_instance_destroy(pointer) }) != 0 {
            let error = currentErrno()
            if error == EBUSY && attempts < 50 {
                attempts += 1
                usleep(10_000)
                continue
            }
            if error == ENOENT { return }
            throw TraceFSError(TraceFSError.Code.from(errno: error), operation: operation,
                               reason: error == EBUSY
                                   ? "a reader still holds one of its files open; stop reading and try again"
                                   : "the kernel did not remove the instance directory",
                               function: "tracefs_instance_destroy", errno: reportableErrno(error))
        }
    }

    /// Whether ``create(named:)`` made the kernel's instance (rather than finding it).
    ///
    /// The corresponding C function is `tracefs_instance_is_new`.
    public var isNew: Bool {
        pointer.map { tracefs_instance_is_new($0) } ?? false
    }

    /// Whether the kernel still has this instance.
    public var exists: Bool {
        guard let name else { return true }
        return tracefs_instance_exists(name)
    }

    /// The instance's directory in tracefs.
    ///
    /// The corresponding C function is `tracefs_instance_get_dir`.
    public var directory: String? {
        guard let path = tracefs_instance_get_dir(pointer) else { return nil }
        defer { tracefs_put_tracing_file(path) }
        return String(cString: path)
    }

    /// "trace instance 'name'" or "top-level trace instance".
    public var description: String {
        name.map { "trace instance '\($0)'" } ?? "top-level trace instance"
    }

    /// Runs a libtracefs call on the instance's descriptor (NULL for the top level).
    func withDescriptor<Result>(_ body: (OpaquePointer?) throws -> Result) rethrows -> Result {
        try body(pointer)
    }

    /// Writes `text` to the instance's `trace_marker`, where it becomes one `ftrace/print` record.
    ///
    /// `text` must be one line of 1 to ``maximumMarkerLength`` bytes: the kernel stores a longer
    /// write cut short (6.1) or split into several records (6.8 and later), and a newline inside
    /// the text would let it pose as further records in the text `trace` output. The kernel ends
    /// each record's line itself.
    ///
    /// - Throws: ``TraceFSError`` with `invalidArgument`, before writing, when `text` is empty,
    ///   too long, or contains a NUL byte, a newline or a carriage return; otherwise the write's
    ///   failure.
    ///
    /// The corresponding C function is `tracefs_printf` (through a `"%s"` shim, as Swift cannot
    /// call variadic C functions).
    public func writeMarker(_ text: String) throws(TraceFSError) {
        let operation = "write to the trace_marker of the \(description)"
        let length = text.utf8.count
        let problem: String? =
            if text.isEmpty { "the text is empty; the kernel records nothing for an empty write" }
            else if text.utf8.contains(0) { "the text contains a NUL byte" }
            else if text.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) {
                "the text contains a line break, which would let it pose as further records in the trace "
                    + "output; write one marker per line"
            } else if length > Instance.maximumMarkerLength {
                "the text is \(length) bytes long, more than the \(Instance.maximumMarkerLength) bytes this kernel "
                    + "keeps in one record (Instance.maximumMarkerLength); write it in several markers"
            } else { nil }
        if let problem {
            throw TraceFSError(.invalidArgument, operation: operation, reason: problem)
        }
        let result = markerLock.withLock { _ in withClearedErrno { ctracefs_print(pointer, text) } }
        guard result >= 0 else {
            let error = currentErrno()
            throw TraceFSError(TraceFSError.Code.from(errno: error), operation: operation,
                               reason: "the kernel did not accept the marker", function: "tracefs_printf",
                               errno: reportableErrno(error))
        }
    }

    /// The longest text, in bytes, that one ``writeMarker(_:)`` call may write: what the running
    /// kernel keeps in one `ftrace/print` record. Kernels before 6.8 (Debian 12's 6.1) cut a
    /// marker at 1024 bytes (TRACE_BUF_SIZE); 6.8 and later (they have `buffer_subbuf_size_kb`)
    /// at the largest ring-buffer event of a page minus the record's 42 bytes of headers: 4054 with
    /// 4 KiB pages, whatever the sub-buffer size.
    public static var maximumMarkerLength: Int {
        markerLimit.withLock { limit in
            if let limit { return limit }
            let directory = try? TracingDirectory.path(for: "read the trace_marker limit")
            let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
            let found = directory.map { KernelFile.exists($0 + "/buffer_subbuf_size_kb") } == true
                ? min(pageSize, 4096) - 42 : 1024
            limit = found
            return found
        }
    }

    private static let markerLimit = Mutex<Int?>(nil)

    static func checkName(_ name: String, operation: String) throws(TraceFSError) {
        let input = ProbeInput(operation: operation)
        guard !name.isEmpty, name != ".", name != "..", name.utf8.count <= 255 else {
            throw input.invalid("an instance name must be 1 to 255 characters and not '.' or '..'")
        }
        if let bad = name.unicodeScalars.first(where: { $0 == "/" || $0 == " " || $0.value < 0x21 || $0.value >= 0x7F }) {
            throw input.invalid("instance name \(ProbeInput.display(name)) contains \(EventName.quoted(bad)); "
                + "use printable ASCII without '/' or spaces")
        }
    }
}

// Sendable: `pointer` and `name` never change. libtracefs guards the descriptor's iteration state
// with its own mutex, the one lazily opened marker descriptor is guarded by `markerLock`, the list
// of followers by its Mutex, and the other calls only read the descriptor's immutable paths.
extension Instance: @unchecked Sendable {}
