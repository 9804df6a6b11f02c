import CTraceFS
import Synchronization

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
/// at most 63 characters, no argument may contain `#` (the kernel's probe parser drops everything
/// after it as a comment), and no argument may contain a newline or other control character,
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
    /// Whether this overlay writes the definition line itself, because libtracefs 1.6.4 cannot:
    /// it stores a kretprobe's maxactive as the prefix "r7:" and then writes "r7::group/event",
    /// which the kernel rejects, and it has no uprobe with a reference counter
    /// (`path:0x...(0x...)`, a USDT probe's semaphore).
    private let writesDefinitionItself: Bool
    /// What the kernel lists after the name for the probe that ``create()`` made; `nil` before.
    private let createdTail = Mutex<String?>(nil)

    /// Takes ownership of a descriptor from libtracefs and reads its fields.
    ///
    /// - Parameter addressSuffix: Appended to the descriptor's address, which libtracefs cannot
    ///   hold: a uprobe's reference counter, `(0x283260)`. The overlay then writes the definition
    ///   itself.
    ///
    /// The corresponding C function is `tracefs_dynevent_info`.
    init(taking pointer: OpaquePointer, operation: @autoclosure () -> String, addressSuffix: String = "") throws(TraceFSError) {
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
        self.writesDefinitionItself = rawPrefix.hasSuffix(":") || !addressSuffix.isEmpty
        self.address = address.map { String(cString: $0) + addressSuffix }
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
    /// The kernel would not refuse every existing name: given an event of that name with
    /// compatible arguments, it adds this probe to that event (which may be another tool's) instead
    /// of failing. So an existing `system/event` is refused before writing. (Another process can
    /// still create the name between that check and the write; ``destroy(force:)`` then removes
    /// only this probe.)
    ///
    /// - Throws: ``TraceFSError``: `alreadyExists` when an event of that name exists, `notFound`
    ///   for an unknown symbol or file, `unsupported` when the kernel lacks this kind of event,
    ///   `lockedDown` under kernel lockdown, `permissionDenied` when not root, `invalidArgument`
    ///   when the kernel rejects the definition; each with the kernel's own message when it gave one.
    ///
    /// The corresponding C function is `tracefs_dynevent_create`.
    public func create() throws(TraceFSError) {
        let operation = "create \(description)"
        let refuseExisting = { (directory: String) -> TraceFSError? in
            guard KernelFile.exists("\(directory)/events/\(self.system)/\(self.event)") else { return nil }
            return TraceFSError(
                .alreadyExists, operation: operation,
                reason: "an event named \(self.system)/\(self.event) already exists (it may belong to another tool, "
                    + "and the kernel would add this probe to it); choose another name or destroy that event first")
        }
        if writesDefinitionItself {
            let definition = self.definition
            let kind = self.kind
            try KernelWrite.perform("tracefs_instance_file_append", operation: operation, kinds: Kinds(kind),
                                    subject: "\(system)/\(event)", command: definition, refuse: refuseExisting) { directory in
                let file = KernelFile.exists(directory + "/dynamic_events") ? "dynamic_events"
                    : kind == .uprobe || kind == .uretprobe ? "uprobe_events" : "kprobe_events"
                return Int32(clamping: tracefs_instance_file_append(nil, file, definition + "\n"))
            }
        } else {
            try KernelWrite.perform("tracefs_dynevent_create", operation: operation, kinds: Kinds(kind),
                                    subject: "\(system)/\(event)", command: definition, refuse: refuseExisting) { _ in
                tracefs_dynevent_create(pointer)
            }
        }
        try recordCreatedTail(operation: operation)
    }

    /// Remembers how the kernel lists the probe just created, for ``destroy(force:)``: the
    /// descriptor's own address and arguments when the kernel lists them as given (every argument
    /// named, a plain symbol or a uprobe's file offset), otherwise the line the kernel lists now (it
    /// names unnamed arguments `arg1`, prints kprobe offsets in decimal). Reading the listing costs
    /// time in proportion to the number of events, so it is read only in the second case.
    private func recordCreatedTail(operation: String) throws(TraceFSError) {
        if listsAsGiven {
            createdTail.withLock { $0 = String(ownTail) }
            return
        }
        let directory = try TracingDirectory.path(for: operation)
        let lines = KernelProbeLine.byName(in: directory)["\(system)/\(event)"] ?? []
        if lines.count == 1 { createdTail.withLock { $0 = String(lines[0].tail) } }
        guard lines.count > 1 else { return }
        // Another process created the name between the check and the write, and the kernel added
        // this probe to its event. Which line is ours cannot be told, so nothing is guessed.
        throw TraceFSError(
            .alreadyExists, operation: operation,
            reason: "another tool created \(system)/\(event) at the same moment and the kernel added this probe to "
                + "its event; remove this probe by writing '-:\(system)/\(event) <its line as listed>' to "
                + "dynamic_events, and choose another name")
    }

    /// Whether the kernel lists this definition exactly as the descriptor holds it.
    private var listsAsGiven: Bool {
        guard kind != .eprobe, kind != .synthetic else { return false }
        if kind == .kprobe || kind == .kretprobe, let address,
           address.hasPrefix("0x") || address.contains("+0x") || address.contains("+0X") {
            return false
        }
        let arguments = (format ?? "").split(separator: " ", omittingEmptySubsequences: false)
        return format == nil || arguments.allSatisfy { argument in
            guard let equals = argument.firstIndex(of: "=") else { return false }
            return EventName.isValid(String(argument[..<equals]))
        }
    }

    /// The line that defines this event, as the kernel lists it: "r7:group/event symbol args".
    public var definition: String {
        "\(prefix):\(system)/\(event)" + (address.map { " \($0)" } ?? "") + (format.map { " \($0)" } ?? "")
    }

    /// The address and arguments as this descriptor holds them: for a listed event, exactly what
    /// the kernel lists after the name.
    var ownTail: Substring {
        Substring([address, format].compactMap { $0 }.joined(separator: " "))
    }

    /// What the kernel lists after the name for this probe: how it listed the probe that
    /// ``create()`` made, otherwise this descriptor's address and arguments (as for a listed event).
    var kernelTail: Substring {
        createdTail.withLock { $0 }.map { Substring($0) } ?? ownTail
    }

    /// Removes this probe from the kernel, and with it the event when no other probe shares it.
    /// Removing an event that does not exist (any more) is not an error, so calling this twice
    /// is safe.
    ///
    /// Only this probe is removed: the one ``create()`` made, or, for a descriptor that did not
    /// create it, the one whose address and arguments are exactly this descriptor's (as for a
    /// listed event). The kernel lets probes with compatible arguments share an event, so an event of
    /// the same name may hold another tool's probe; that probe, and an event of the same name with
    /// another definition, are left alone. Names are compared exactly (`A/b` is not `a/b`).
    ///
    /// - Parameter force: Disable the event in every instance first (when this is its only
    ///   probe). Without it, destroying an enabled event throws `busy`.
    /// - Throws: ``TraceFSError``: `busy` when the event is enabled or in use and `force` is false.
    ///
    /// Built on `tracefs_instance_file_append` (writing `-:system/event address arguments` to
    /// `dynamic_events`), not `tracefs_dynevent_destroy`, which removes every probe of the event and,
    /// with `force`, disables events whose names match case-insensitively.
    public func destroy(force: Bool = false) throws(TraceFSError) {
        try DynamicEvent.destroy([self], force: force)
    }

    /// Whether the kernel currently has an event of this kind and exact name.
    ///
    /// Built on ``find(_:system:event:)`` (`tracefs_dynevent_get_all`).
    public var exists: Bool {
        (try? DynamicEvent.find(kind, system: system, event: event)) != nil
    }
}

// Sendable: every stored property is immutable, except `createdTail`, which a Mutex guards. The
// descriptor is only read by libtracefs after `tracefs_dynevent_info` (create and destroy format its fields into a control-file write), and
// those calls run inside LibraryLock, so sharing an instance between tasks is safe.
extension DynamicEvent: @unchecked Sendable {}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
