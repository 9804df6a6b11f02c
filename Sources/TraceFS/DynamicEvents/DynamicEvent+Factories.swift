import CTraceFS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension DynamicEvent {
    /// Describes a kprobe; ``create()`` defines it in the kernel.
    ///
    /// - Parameters:
    ///   - system: The group, `kprobes` when `nil`.
    ///   - event: The event name. When `nil`, ``EventName/sanitized(_:)`` of `address`
    ///     (libtracefs would use the address as it is, which the kernel rejects for symbols such
    ///     as `foo.isra.0`).
    ///   - address: `[module:]symbol[+offset]` or a hexadecimal address.
    ///   - format: Fetch arguments, such as `file=+0($arg2):ustring`.
    /// - Throws: ``TraceFSError``, and nothing is written to the kernel: `invalidArgument` for a
    ///   malformed argument, a data symbol, or a name that several functions have (each address
    ///   listed); `notFound` for a symbol that `/proc/kallsyms` does not list as a function, or
    ///   lists only on the kprobe blacklist, with similar names and the compiler-made copies of
    ///   the name (`do_foo.isra.0`) suggested; `unsupported`, saying so first, for a bad symbol on a
    ///   kernel without kprobe events.
    ///
    /// The symbol is checked against the kernel's symbols before anything else happens: `symbol`
    /// and `symbol+offset` among the kernel's and its loaded modules' functions, `module:symbol`
    /// among that module's (a module that is not loaded is left to the kernel, which arms such a
    /// probe when the module loads); hexadecimal addresses are not checked. A name that several
    /// functions have (static functions of one name in different files) is refused, as kernels
    /// since 6.7 and their stable updates (Debian's 6.1.0-57 among them) refuse it with
    /// `EADDRNOTAVAIL` and older ones probe only the first: give the address of the one you mean. The symbols are read once per process (about 10 MB of memory) and again when a
    /// name is missing and they are more than a few seconds old or the loaded modules changed.
    ///
    /// The corresponding C function is `tracefs_kprobe_alloc`.
    public static func kprobe(
        system: String? = nil, event: String? = nil, address: String, format: String? = nil
    ) throws(TraceFSError) -> DynamicEvent {
        let event = try checkedKernelProbe(.kprobe, system: system, event: event, address: address, format: format)
        return try allocated("tracefs_kprobe_alloc", operation: "describe kprobe on \(ProbeInput.display(address))") {
            withCStrings(system, event, address, format) { system, event, address, format, _ in
                tracefs_kprobe_alloc(system, event, address, format)
            }
        }
    }

    /// Describes a kretprobe, which fires when the probed function returns.
    ///
    /// - Parameters:
    ///   - system: The group, `kprobes` when `nil`.
    ///   - event: The event name; from `address` when `nil`, as for ``kprobe(system:event:address:format:)``.
    ///   - address: The function: `[module:]symbol[+offset]` or a hexadecimal address.
    ///   - format: Fetch arguments, such as `ret=$retval`.
    ///   - maxActive: How many concurrent calls the kernel tracks (0: its default; at most 4096).
    /// - Throws: ``TraceFSError``, before anything is written: `invalidArgument` for a malformed
    ///   argument, and the symbol's errors as for ``kprobe(system:event:address:format:)``, whose
    ///   checks of the symbol against `/proc/kallsyms` apply here too.
    ///
    /// The corresponding C function is `tracefs_kretprobe_alloc`.
    public static func kretprobe(
        system: String? = nil, event: String? = nil, address: String, format: String? = nil, maxActive: UInt32 = 0
    ) throws(TraceFSError) -> DynamicEvent {
        let event = try checkedKernelProbe(.kretprobe, system: system, event: event, address: address, format: format)
        guard maxActive <= 4096 else {
            throw ProbeInput(operation: "describe kretprobe on \(ProbeInput.display(address))")
                .invalid("maxActive \(maxActive) is more than the kernel's limit of 4096 (KRETPROBE_MAXACTIVE_MAX)")
        }
        return try allocated("tracefs_kretprobe_alloc", operation: "describe kretprobe on \(ProbeInput.display(address))") {
            withCStrings(system, event, address, format) { system, event, address, format, _ in
                tracefs_kretprobe_alloc(system, event, address, format, maxActive)
            }
        }
    }

    /// Describes a uprobe on an instruction of an executable or shared library.
    ///
    /// - Parameters:
    ///   - system: The group, `uprobes` when `nil`.
    ///   - event: The event name.
    ///   - file: The executable or library; it must exist and `offset` must lie inside it. A relative
    ///     path is made absolute against the current directory; paths under `/proc` (such as
    ///     `/proc/self/fd/3`) and paths with `#` are refused.
    ///   - offset: The file offset of the probed instruction.
    ///   - fetchArgs: Fetch arguments, such as `size=%di:u64`.
    /// - Throws: ``TraceFSError``: `notFound` when `file` does not exist, `invalidArgument` for a
    ///   malformed argument or an offset past the end of the file.
    ///
    /// The corresponding C function is `tracefs_uprobe_alloc`.
    public static func uprobe(
        system: String? = nil, event: String, file: String, offset: UInt64, fetchArgs: String? = nil
    ) throws(TraceFSError) -> DynamicEvent {
        try userProbe(.uprobe, system: system, event: event, file: file, offset: offset, fetchArgs: fetchArgs)
    }

    /// Describes a uretprobe, which fires when the function at `offset` returns.
    ///
    /// The parameters and errors are those of ``uprobe(system:event:file:offset:fetchArgs:)``.
    ///
    /// The corresponding C function is `tracefs_uretprobe_alloc`.
    public static func uretprobe(
        system: String? = nil, event: String, file: String, offset: UInt64, fetchArgs: String? = nil
    ) throws(TraceFSError) -> DynamicEvent {
        try userProbe(.uretprobe, system: system, event: event, file: file, offset: offset, fetchArgs: fetchArgs)
    }

    /// Describes an event probe: a new event that fires with another event and reads its fields.
    ///
    /// - Parameters:
    ///   - system: The group, `eprobes` when `nil`.
    ///   - event: The event name.
    ///   - targetSystem: The system of the event to attach to, such as `syscalls`.
    ///   - targetEvent: The event to attach to, such as `sys_enter_openat`.
    ///   - fetchArgs: Fetch arguments over the target's fields, such as `file=+0($filename):ustring`.
    /// - Throws: ``TraceFSError`` with `invalidArgument` for a malformed argument.
    ///
    /// The corresponding C function is `tracefs_eprobe_alloc`.
    public static func eprobe(
        system: String? = nil, event: String, targetSystem: String, targetEvent: String, fetchArgs: String? = nil
    ) throws(TraceFSError) -> DynamicEvent {
        let input = ProbeInput(operation:
            "describe eprobe \(ProbeInput.display(event)) on \(ProbeInput.display(targetSystem)).\(ProbeInput.display(targetEvent))")
        if let system { try input.name(system, as: "group") }
        try input.name(event, as: "event")
        try input.name(targetSystem, as: "target system")
        try input.name(targetEvent, as: "target event")
        try input.format(fetchArgs, as: "fetch arguments")
        try input.commandLength(system, event, targetSystem, targetEvent, fetchArgs)
        return try allocated("tracefs_eprobe_alloc", operation: input.operation()) {
            withCStrings(system, event, targetSystem, targetEvent, fetchArgs) { tracefs_eprobe_alloc($0, $1, $2, $3, $4) }
        }
    }

    // MARK: - Shared checks

    /// Checks a kprobe's or kretprobe's arguments and returns the event name to use.
    ///
    /// The order: the syntax of every argument first (cheap, and it needs no file), then the
    /// symbol against kallsyms (``KernelSymbols``). A bad symbol on a kernel without kprobe events
    /// is `unsupported`, naming the missing feature before the symbol's problem: a user there
    /// must hear first that no kprobe can work, whatever the symbol. A good symbol on such a kernel
    /// describes as before, and ``create()`` reports `unsupported`.
    static func checkedKernelProbe(
        _ kind: Kind, system: String?, event: String?, address: String, format: String?
    ) throws(TraceFSError) -> String {
        let input = ProbeInput(operation: "describe \(kind) on \(ProbeInput.display(address))")
        try input.kernelAddress(address)
        if let system { try input.name(system, as: "group") }
        let event = event ?? EventName.sanitized(address)
        try input.name(event, as: "event")
        try input.format(format, as: "format")
        try input.commandLength(system, event, address, format)
        do {
            try KernelSymbols.check(address, operation: input.operation())
        } catch {
            throw kprobesMissing(instead: error) ?? error
        }
        return event
    }

    /// On a kernel without kprobe events, an `unsupported` error that says so first and then what
    /// was wrong with the symbol: fixing the symbol would not help there. `nil` when the kernel has
    /// kprobe events, or when tracefs is not mounted and it cannot be told without mounting it.
    private static func kprobesMissing(instead error: TraceFSError) -> TraceFSError? {
        guard TracingDirectory.isMounted, let directory = try? TracingDirectory.path(for: error.operation),
              !TracingCapabilities.kernelSupports(.kprobe, in: directory) else { return nil }
        return TraceFSError(
            .unsupported, operation: error.operation,
            reason: "this kernel has no \(Kind.kprobe.kernelFeature); use a kernel built with it. "
                + "Besides, \(error.reason)")
    }

    private static func userProbe(
        _ kind: Kind, system: String?, event: String, file: String, offset: UInt64, fetchArgs: String?
    ) throws(TraceFSError) -> DynamicEvent {
        let input = ProbeInput(
            operation: "describe \(kind) \(ProbeInput.display(event)) on \(ProbeInput.display(file)):0x\(String(offset, radix: 16))")
        if let system { try input.name(system, as: "group") }
        try input.name(event, as: "event")
        try input.format(fetchArgs, as: "fetch arguments")
        let file = try input.userBinary(file, offset: offset)
        try input.commandLength(system, event, file, fetchArgs, extra: ":0x0000000000000000".utf8.count)
        let function = kind == .uprobe ? "tracefs_uprobe_alloc" : "tracefs_uretprobe_alloc"
        return try allocated(function, operation: input.operation()) {
            withCStrings(system, event, file, fetchArgs) { system, event, file, fetchArgs, _ in
                kind == .uprobe
                    ? tracefs_uprobe_alloc(system, event, file, offset, fetchArgs)
                    : tracefs_uretprobe_alloc(system, event, file, offset, fetchArgs)
            }
        }
    }

    /// Wraps what a libtracefs allocator returned, or throws its failure.
    static func allocated(
        _ function: String, operation: @autoclosure () -> String, addressSuffix: String = "",
        _ allocate: () -> OpaquePointer?
    ) throws(TraceFSError) -> DynamicEvent {
        guard let pointer = withClearedErrno(allocate) else {
            let error = currentErrno()
            throw TraceFSError(
                error == ENOMEM || error == 0 ? .outOfMemory : TraceFSError.Code.from(errno: error),
                operation: operation(), reason: "libtracefs could not allocate the event descriptor",
                function: function, errno: reportableErrno(error))
        }
        return try DynamicEvent(taking: pointer, operation: operation(), addressSuffix: addressSuffix)
    }
}
