/// The factories with typed fetch arguments: each checks the arguments for its kind of probe,
/// renders them as the kernel's text and calls the factory that takes that text, with all of its
/// checks. Nothing is written to the kernel until ``create()``.
extension DynamicEvent {
    /// Describes a kprobe that records typed fetch arguments.
    ///
    /// ```swift
    /// let open = try DynamicEvent.kprobe(system: "myapp", event: "open", address: "do_sys_openat2", arguments: [
    ///     FetchArgument("file", .dereference(offset: 0, .argument(2)), as: .userString),
    ///     FetchArgument("flags", .dereference(offset: 0, .argument(3)), as: .hex(64)),
    /// ])
    /// ```
    ///
    /// - Parameters:
    ///   - system: The group, `kprobes` when `nil`.
    ///   - event: The event name; from `address` when `nil`, as for ``kprobe(system:event:address:format:)``.
    ///   - address: `[module:]symbol[+offset]` or a hexadecimal address.
    ///   - arguments: What to record; `$argN` (``FetchValue/argument(_:)``) only when `address` has no offset.
    /// - Throws: ``TraceFSError`` with `invalidArgument` for an argument the kernel would refuse on a
    ///   kprobe (naming it) or another malformed argument; nothing is written to the kernel.
    ///
    /// The corresponding C function is `tracefs_kprobe_alloc`.
    public static func kprobe(
        system: String? = nil, event: String? = nil, address: String, arguments: [FetchArgument]
    ) throws(TraceFSError) -> DynamicEvent {
        let format = try FetchArgument.rendered(
            arguments, for: .kprobe, atFunctionEntry: isFunctionEntry(address),
            input: ProbeInput(operation: "describe kprobe on \(ProbeInput.display(address))"))
        return try kprobe(system: system, event: event, address: address, format: format)
    }

    /// Describes a kretprobe that records typed fetch arguments, such as
    /// `FetchArgument("ret", .returnValue, as: .signed(64))`.
    ///
    /// - Parameters:
    ///   - system: The group, `kprobes` when `nil`.
    ///   - event: The event name; from `address` when `nil`.
    ///   - address: The function: `[module:]symbol[+offset]` or a hexadecimal address.
    ///   - arguments: What to record; ``FetchValue/returnValue`` is there, `$argN` is not (Linux 6.1).
    ///   - maxActive: How many concurrent calls the kernel tracks (0: its default; at most 4096).
    /// - Throws: ``TraceFSError`` with `invalidArgument` for a malformed argument.
    ///
    /// The corresponding C function is `tracefs_kretprobe_alloc`.
    public static func kretprobe(
        system: String? = nil, event: String? = nil, address: String, arguments: [FetchArgument], maxActive: UInt32 = 0
    ) throws(TraceFSError) -> DynamicEvent {
        let format = try FetchArgument.rendered(
            arguments, for: .kretprobe, atFunctionEntry: isFunctionEntry(address),
            input: ProbeInput(operation: "describe kretprobe on \(ProbeInput.display(address))"))
        return try kretprobe(system: system, event: event, address: address, format: format, maxActive: maxActive)
    }

    /// Describes a uprobe at a file offset that records typed fetch arguments.
    ///
    /// The parameters and errors are those of ``uprobe(system:event:file:offset:fetchArgs:)``;
    /// `arguments` may use registers, the stack, `$comm`, dereferences and `@+OFFSET`, but not
    /// `$argN`, `$retval`, kernel symbols or the `symbol` type.
    ///
    /// The corresponding C function is `tracefs_uprobe_alloc`.
    public static func uprobe(
        system: String? = nil, event: String, file: String, offset: UInt64, arguments: [FetchArgument]
    ) throws(TraceFSError) -> DynamicEvent {
        let fetchArgs = try userArguments(arguments, kind: .uprobe, event: event, file: file)
        return try uprobe(system: system, event: event, file: file, offset: offset, fetchArgs: fetchArgs)
    }

    /// Describes a uretprobe at a file offset that records typed fetch arguments, such as
    /// `FetchArgument("ret", .returnValue, as: .signed(32))`.
    ///
    /// The parameters and errors are those of ``uretprobe(system:event:file:offset:fetchArgs:)``.
    ///
    /// The corresponding C function is `tracefs_uretprobe_alloc`.
    public static func uretprobe(
        system: String? = nil, event: String, file: String, offset: UInt64, arguments: [FetchArgument]
    ) throws(TraceFSError) -> DynamicEvent {
        let fetchArgs = try userArguments(arguments, kind: .uretprobe, event: event, file: file)
        return try uretprobe(system: system, event: event, file: file, offset: offset, fetchArgs: fetchArgs)
    }

    /// Describes a uprobe on a function named by its symbol that records typed fetch arguments.
    ///
    /// ```swift
    /// let size = FetchArgument("size", .register("di"), as: .unsigned(64))
    /// let malloc = try DynamicEvent.uprobe(system: "myapp", file: "/usr/lib/x86_64-linux-gnu/libc.so.6",
    ///                                      symbol: "malloc", arguments: [size])
    /// ```
    ///
    /// The parameters and errors are those of ``uprobe(system:event:file:symbol:offset:fetchArgs:)``;
    /// `arguments` are checked as for ``uprobe(system:event:file:offset:arguments:)``.
    ///
    /// The corresponding libtracefs function is `tracefs_uprobe_alloc`.
    public static func uprobe(
        system: String? = nil, event: String? = nil, file: String, symbol: String, offset: UInt64 = 0,
        arguments: [FetchArgument]
    ) throws(TraceFSError) -> DynamicEvent {
        let fetchArgs = try userArguments(arguments, kind: .uprobe, event: event ?? symbol, file: file)
        return try uprobe(system: system, event: event, file: file, symbol: symbol, offset: offset, fetchArgs: fetchArgs)
    }

    /// Describes a uretprobe on a function named by its symbol that records typed fetch arguments.
    ///
    /// The parameters and errors are those of ``uretprobe(system:event:file:symbol:fetchArgs:)``.
    ///
    /// The corresponding libtracefs function is `tracefs_uretprobe_alloc`.
    public static func uretprobe(
        system: String? = nil, event: String? = nil, file: String, symbol: String, arguments: [FetchArgument]
    ) throws(TraceFSError) -> DynamicEvent {
        let fetchArgs = try userArguments(arguments, kind: .uretprobe, event: event ?? symbol, file: file)
        return try uretprobe(system: system, event: event, file: file, symbol: symbol, fetchArgs: fetchArgs)
    }

    /// Describes an event probe that records typed fetch arguments over the target event's
    /// fields, such as `FetchArgument("file", .dereference(offset: 0, .field("filename")), as: .userString)`.
    ///
    /// The parameters and errors are those of ``eprobe(system:event:targetSystem:targetEvent:fetchArgs:)``;
    /// `arguments` may use ``FetchValue/field(_:)``, `$comm`, `@` addresses and symbols, dereferences
    /// and constants, not registers or the stack.
    ///
    /// The corresponding C function is `tracefs_eprobe_alloc`.
    public static func eprobe(
        system: String? = nil, event: String, targetSystem: String, targetEvent: String, arguments: [FetchArgument]
    ) throws(TraceFSError) -> DynamicEvent {
        let fetchArgs = try FetchArgument.rendered(
            arguments, for: .eprobe, atFunctionEntry: false,
            input: ProbeInput(operation: "describe eprobe \(ProbeInput.display(event)) on "
                + "\(ProbeInput.display(targetSystem)).\(ProbeInput.display(targetEvent))"))
        return try eprobe(system: system, event: event, targetSystem: targetSystem, targetEvent: targetEvent,
                          fetchArgs: fetchArgs)
    }

    private static func userArguments(
        _ arguments: [FetchArgument], kind: Kind, event: String, file: String
    ) throws(TraceFSError) -> String? {
        try FetchArgument.rendered(
            arguments, for: kind, atFunctionEntry: false,
            input: ProbeInput(operation: "describe \(kind) \(ProbeInput.display(event)) on \(ProbeInput.display(file))"))
    }

    /// Whether a kprobe address names a function's entry: no `+offset`, or `+0`. A hexadecimal
    /// address may or may not be one; the kernel decides.
    static func isFunctionEntry(_ address: String) -> Bool {
        guard let plus = address.lastIndex(of: "+") else { return true }
        let offset = address[address.index(after: plus)...]
        return offset.allSatisfy { $0 == "0" || $0 == "x" } && !offset.isEmpty
    }
}
