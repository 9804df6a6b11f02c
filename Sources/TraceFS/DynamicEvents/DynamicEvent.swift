import CTraceFS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A dynamic trace event: a kprobe, kretprobe, uprobe, uretprobe, eprobe or synthetic event.
///
/// A `DynamicEvent` owns one libtracefs descriptor (`struct tracefs_dynevent`) and frees it when
/// it goes away. Creating and destroying the event in the kernel are separate, explicit calls:
/// letting the object go does not remove the kernel's event, and destroying the kernel's event
/// does not free the object.
///
/// A uprobe's offset is a file offset, which differs between builds of a library. For a function,
/// `readelf -Ws --dyn-syms FILE | grep ' malloc@@'` prints its address; in a library whose
/// `readelf -lW` `LOAD` segments have equal `Offset` and `VirtAddr` (Debian's libc does), that
/// address is the file offset. On Debian 12's libc 2.36, `malloc` is at 0x98930:
///
/// ```swift
/// let probe = try DynamicEvent.uprobe(system: "myapp", event: "malloc",
///                                     file: "/usr/lib/x86_64-linux-gnu/libc.so.6", offset: 0x98930,
///                                     fetchArgs: "size=%di:u64")
/// try probe.create()
/// defer { try? probe.destroy(force: true) }
/// ```
///
/// Every argument is checked before anything is written to the kernel: names are C identifiers of
/// at most 64 characters, and no argument may contain a newline or other control character,
/// which would let one definition define or delete other events.
public final class DynamicEvent: CustomStringConvertible {
    let pointer: OpaquePointer

    /// The kind of event.
    public let kind: Kind
    /// The group (system) the event is in, such as `kprobes`.
    public let system: String
    /// The event's name.
    public let event: String
    /// The definition's prefix: `p`, `r`, `r5` (a kretprobe with maxactive 5), `e` or `s`.
    public let prefix: String
    /// What is probed: the kernel symbol, `file:0xoffset`, or `system.event` of an eprobe.
    public let address: String?
    /// The fetch arguments or format, if any.
    public let format: String?
    /// libtracefs 1.6.4 stores a kretprobe's maxactive as the prefix "r7:" and then writes
    /// "r7::group/event", which the kernel rejects; such definitions are written by this overlay.
    private let libraryPrefixIsBroken: Bool

    /// Takes ownership of a descriptor from libtracefs and reads its fields.
    ///
    /// The corresponding C function is `tracefs_dynevent_info`.
    init(taking pointer: OpaquePointer, operation: @autoclosure () -> String) throws(TraceFSError) {
        var system: UnsafeMutablePointer<CChar>?
        var event: UnsafeMutablePointer<CChar>?
        var prefix: UnsafeMutablePointer<CChar>?
        var address: UnsafeMutablePointer<CChar>?
        var format: UnsafeMutablePointer<CChar>?
        let type = withClearedErrno {
            tracefs_dynevent_info(pointer, &system, &event, &prefix, &address, &format)
        }
        let error = currentErrno()
        defer { for field in [system, event, prefix, address, format] { free(field) } }
        guard let kind = Kind(type), let system, let event else {
            tracefs_dynevent_free(pointer)
            throw TraceFSError(
                error == ENOMEM ? .outOfMemory : .failed, operation: operation(),
                reason: "libtracefs could not describe the event it returned",
                function: "tracefs_dynevent_info", errno: reportableErrno(error))
        }
        self.pointer = pointer
        self.kind = kind
        self.system = String(cString: system)
        self.event = String(cString: event)
        let rawPrefix = prefix.map { String(cString: $0) } ?? ""
        self.prefix = rawPrefix.trimmingSuffix(":")
        self.libraryPrefixIsBroken = rawPrefix.hasSuffix(":")
        self.address = address.map { String(cString: $0) }
        self.format = format.map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    deinit {
        tracefs_dynevent_free(pointer)
    }

    /// "kprobe kprobes/open on do_sys_openat2".
    public var description: String {
        "\(kind) \(system)/\(event)" + (address.map { " on \($0)" } ?? "")
    }

    /// Defines the event in the kernel.
    ///
    /// - Throws: ``TraceFSError``: `alreadyExists` when an event of that name exists, `notFound`
    ///   for an unknown symbol or file, `unsupported` when the kernel lacks this kind of event,
    ///   `lockedDown` under kernel lockdown, `permissionDenied` when not root, `invalidArgument`
    ///   when the kernel rejects the definition; each with the kernel's own message when it gave one.
    ///
    /// The corresponding C function is `tracefs_dynevent_create`.
    public func create() throws(TraceFSError) {
        guard libraryPrefixIsBroken else {
            try KernelWrite.perform("tracefs_dynevent_create", operation: "create \(description)", kinds: Kinds(kind),
                                    subject: "\(system)/\(event)", command: definition) { _ in
                tracefs_dynevent_create(pointer)
            }
            return
        }
        let definition = self.definition
        try KernelWrite.perform("tracefs_instance_file_append", operation: "create \(description)", kinds: Kinds(kind),
                                subject: "\(system)/\(event)", command: definition) { directory in
            let file = KernelFile.exists(directory + "/dynamic_events") ? "dynamic_events" : "kprobe_events"
            return Int32(clamping: tracefs_instance_file_append(nil, file, definition + "\n"))
        }
    }

    /// The line that defines this event, as the kernel lists it: "r7:group/event symbol args".
    public var definition: String {
        "\(prefix):\(system)/\(event)" + (address.map { " \($0)" } ?? "") + (format.map { " \($0)" } ?? "")
    }

    /// Removes the event from the kernel. Removing an event that does not exist (any more) is not
    /// an error, so calling this twice is safe.
    ///
    /// - Parameter force: Disable the event in every instance first. Without it, destroying an
    ///   enabled event throws `busy`.
    /// - Throws: ``TraceFSError``: `busy` when the event is enabled or in use and `force` is false.
    ///
    /// The corresponding C function is `tracefs_dynevent_destroy`.
    public func destroy(force: Bool = false) throws(TraceFSError) {
        try KernelWrite.perform("tracefs_dynevent_destroy", operation: "destroy \(description)", kinds: Kinds(kind),
                                subject: "\(system)/\(event)", command: nil, absentIsSuccess: true) { _ in
            tracefs_dynevent_destroy(pointer, force)
        }
    }

    /// Whether the kernel currently has this event.
    ///
    /// The corresponding C function is `tracefs_dynevent_get`.
    public var exists: Bool {
        (try? DynamicEvent.find(kind, system: system, event: event)) != nil
    }
}

// Sendable: every stored property is immutable. The descriptor is only read by libtracefs after
// `tracefs_dynevent_info` (create and destroy format its fields into a control-file write), and
// those calls run inside LibraryLock, so sharing an instance between tasks is safe.
extension DynamicEvent: @unchecked Sendable {}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
