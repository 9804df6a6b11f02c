extension DynamicEvent {
    /// Describes a uprobe on a function of an executable or shared library, named by its symbol:
    /// what `perf probe -x FILE FUNCTION` and bpftrace's `uprobe:FILE:FUNCTION` do.
    ///
    /// ```swift
    /// let probe = try DynamicEvent.uprobe(system: "myapp", file: "/usr/lib/x86_64-linux-gnu/libc.so.6",
    ///                                     symbol: "malloc", fetchArgs: "size=%di:u64")
    /// print(probe.address ?? "")   // "/usr/lib/x86_64-linux-gnu/libc.so.6:0x0000000000098930"
    /// ```
    ///
    /// The symbol is looked up in the file's `.symtab`, or in its `.dynsym` when it has no
    /// `.symtab` (a stripped file keeps only its exported functions there), and its address is
    /// turned into the file offset the kernel needs through the file's loadable segments; then
    /// ``uprobe(system:event:file:offset:fetchArgs:)`` describes the probe, with all its checks.
    /// Names that share one address (aliases) are one function. For an indirect function
    /// (`STT_GNU_IFUNC`, such as glibc's `memcpy`) the probe is on its resolver, which runs once
    /// when the library is loaded, not on the implementation it picks.
    ///
    /// - Parameters:
    ///   - system: The group, `uprobes` when `nil`.
    ///   - event: The event name; ``EventName/sanitized(_:)`` of `symbol` when `nil`.
    ///   - file: The executable or library, as for ``uprobe(system:event:file:offset:fetchArgs:)``.
    ///   - symbol: The function's name as `nm` or `readelf -Ws` lists it, exactly (C++ and Swift names
    ///     mangled). Where a library has several versions of a name (glibc's `realpath`), add
    ///     the version as `readelf` prints it: `realpath@@GLIBC_2.3`.
    ///   - offset: Bytes into the function (0, its entry, by default); it must be the start of an
    ///     instruction inside the function (`objdump -d` shows them).
    ///   - fetchArgs: Fetch arguments, such as `size=%di:u64`.
    /// - Throws: ``TraceFSError``, before anything is written to the kernel: `notFound` when the file
    ///   does not exist or defines no function of that name (the message names up to five similar
    ///   ones); `invalidArgument` when the file is not an ELF executable or library or is stripped of
    ///   all symbols, when the symbol is data rather than a function, when the name has several
    ///   addresses (each listed with its file offset, to pass to the offset form), when `offset`
    ///   is past the function's end, or for a malformed argument.
    ///
    /// The symbol is read with libelf (`elf_begin`, `gelf_getsym`, `gelf_getphdr`); the corresponding
    /// libtracefs function is `tracefs_uprobe_alloc`.
    public static func uprobe(
        system: String? = nil, event: String? = nil, file: String, symbol: String, offset: UInt64 = 0,
        fetchArgs: String? = nil
    ) throws(TraceFSError) -> DynamicEvent {
        let (event, resolution, path) = try resolved(.uprobe, system: system, event: event, file: file, symbol: symbol,
                                                     offset: offset, fetchArgs: fetchArgs)
        return try uprobe(system: system, event: event, file: path, offset: resolution.fileOffset, fetchArgs: fetchArgs)
    }

    /// Describes a uretprobe, which fires when the function named `symbol` returns.
    ///
    /// The symbol is found as for ``uprobe(system:event:file:symbol:offset:fetchArgs:)``, and the
    /// probe goes on the function's entry, where the kernel needs a return probe to be.
    ///
    /// - Parameters:
    ///   - system: The group, `uprobes` when `nil`.
    ///   - event: The event name; ``EventName/sanitized(_:)`` of `symbol` when `nil`.
    ///   - file: The executable or library.
    ///   - symbol: The function's name as `nm` or `readelf -Ws` lists it.
    ///   - fetchArgs: Fetch arguments, such as `ret=$retval:s64`.
    /// - Throws: ``TraceFSError``, as ``uprobe(system:event:file:symbol:offset:fetchArgs:)`` does.
    ///
    /// The corresponding libtracefs function is `tracefs_uretprobe_alloc`.
    public static func uretprobe(
        system: String? = nil, event: String? = nil, file: String, symbol: String, fetchArgs: String? = nil
    ) throws(TraceFSError) -> DynamicEvent {
        let (event, resolution, path) = try resolved(.uretprobe, system: system, event: event, file: file,
                                                     symbol: symbol, offset: 0, fetchArgs: fetchArgs)
        return try uretprobe(system: system, event: event, file: path, offset: resolution.fileOffset, fetchArgs: fetchArgs)
    }

    /// Checks the names first (cheap, and they need no file), then the path, then finds the symbol.
    private static func resolved(
        _ kind: Kind, system: String?, event: String?, file: String, symbol: String, offset: UInt64, fetchArgs: String?
    ) throws(TraceFSError) -> (event: String, resolution: SymbolResolution, path: String) {
        let input = ProbeInput(operation: "describe \(kind) on \(ProbeInput.display(file)) function "
            + ProbeInput.display(symbol) + (offset == 0 ? "" : "+0x\(String(offset, radix: 16))"))
        try input.symbol(symbol)
        if let system { try input.name(system, as: "group") }
        let event = event ?? EventName.sanitized(symbol)
        try input.name(event, as: "event")
        try input.format(fetchArgs, as: "fetch arguments")
        let (path, _) = try input.userBinary(file)
        let resolution = try SymbolResolution.resolve(symbol, offset: offset, in: path, operation: input.operation())
        return (event, resolution, path)
    }
}
