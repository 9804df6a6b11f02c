import CTraceFS

extension DynamicEvent {
    /// Describes a uprobe on a USDT probe (a `sys/sdt.h` tracepoint) of an executable or shared
    /// library, found by provider and name: what `perf probe -x FILE sdt_PROVIDER:NAME` and
    /// bpftrace's `usdt:FILE:PROVIDER:NAME` do.
    ///
    /// ```swift
    /// let entry = try DynamicEvent.usdt(file: "/usr/bin/python3.11", provider: "python", name: "function__entry",
    ///                                   argumentNames: ["file", "function", "line"],
    ///                                   userStrings: ["file", "function"])
    /// print(entry.format ?? "")   // file=+0(%bp):ustring function=+0(%r12):ustring line=%ax:s32
    /// ```
    ///
    /// The probe is looked up in the file's `.note.stapsdt` notes (``USDTProbe/all(in:)``); then
    /// ``usdt(system:event:probe:argumentNames:userStrings:)`` describes the uprobe. A name that
    /// marks several places of the file (a probe in an inlined function) is refused with the list
    /// of places: describe one with that function.
    ///
    /// - Parameters:
    ///   - system: The group; `sdt_PROVIDER` (as `perf probe` names it) when `nil`.
    ///   - event: The event name; ``EventName/sanitized(_:)`` of `name` when `nil`.
    ///   - file: The executable or library, as for ``uprobe(system:event:file:offset:fetchArgs:)``.
    ///   - provider: The probe's provider, exactly as `readelf -n` lists it (`python`).
    ///   - name: The probe's name, exactly as `readelf -n` lists it (`function__entry`).
    ///   - argumentNames: The fields the probe's arguments are fetched into, one per argument, in
    ///     order; an empty name leaves that argument out. `arg1`, `arg2`, ... when `nil`.
    ///   - userStrings: Names (from `argumentNames`, or `arg1`, ...) of arguments that point to a
    ///     NUL-terminated string in the traced process: the string is fetched (`+0(...):ustring`)
    ///     instead of the pointer.
    /// - Throws: ``TraceFSError``, before anything is written to the kernel: `notFound` when the
    ///   file does not exist or has no such probe (the message lists the file's probes);
    ///   `invalidArgument` when the file has no USDT probes, the name marks several places, an
    ///   argument cannot be fetched (its reason is given; leave it out with an empty name), or for
    ///   a malformed name.
    ///
    /// The notes are read with libelf (`elf_begin`, `gelf_getnote`); the corresponding libtracefs
    /// function is `tracefs_uprobe_alloc`.
    public static func usdt(
        system: String? = nil, event: String? = nil, file: String, provider: String, name: String,
        argumentNames: [String]? = nil, userStrings: Set<String> = []
    ) throws(TraceFSError) -> DynamicEvent {
        let input = ProbeInput(operation: "describe USDT probe \(ProbeInput.display(provider)):"
            + "\(ProbeInput.display(name)) of \(ProbeInput.display(file))")
        try input.symbol(provider, as: "provider")
        try input.symbol(name, as: "probe name")
        if let system { try input.name(system, as: "group") }
        if let event { try input.name(event, as: "event") }
        let (path, _) = try input.userBinary(file)
        let elf = try ELFFile(path: path, operation: input.operation())
        let probes = try USDTProbe.all(in: elf, operation: input.operation())
        guard !probes.isEmpty else {
            throw input.invalid("\(ProbeInput.display(path)) has no USDT probes (no .note.stapsdt section): it was "
                + "built without sys/sdt.h probes, or they were stripped")
        }
        let matches = probes.filter { $0.provider == provider && $0.name == name }
        guard let probe = matches.first else {
            let listed = probes.map { "\($0.provider):\($0.name)" }
            var unique: [String] = []
            for entry in listed where !unique.contains(entry) { unique.append(entry) }
            let nearest = NearestNames.nearest(to: "\(provider):\(name)", in: unique, limit: 3)
            throw TraceFSError(
                .notFound, operation: input.operation(),
                reason: "\(ProbeInput.display(path)) has no USDT probe \(provider):\(name); "
                    + (nearest.isEmpty ? "" : "similar: \(nearest.joined(separator: ", ")); ")
                    + "its \(unique.count) probes are \(unique.prefix(40).joined(separator: ", "))"
                    + (unique.count > 40 ? ", ..." : "") + " (readelf -n lists them; names are case-sensitive)")
        }
        guard matches.count == 1 else {
            let places = matches.map { "0x\(String($0.address, radix: 16))" }.joined(separator: ", ")
            throw input.invalid("\(provider):\(name) marks \(matches.count) places of \(ProbeInput.display(path)) "
                + "(addresses \(places)); pick one from USDTProbe.all(in:) and describe it with "
                + "DynamicEvent.usdt(system:event:probe:argumentNames:userStrings:), one event per place")
        }
        return try usdt(system: system, event: event, probe: probe, argumentNames: argumentNames,
                        userStrings: userStrings)
    }

    /// Describes a uprobe on a USDT probe that ``USDTProbe/all(in:)`` listed.
    ///
    /// The uprobe goes on the probe's file offset, and each argument becomes a fetch argument of
    /// the note's size and sign (`-4@%edi` becomes `arg1=%di:s32`, `8@-80(%rbx)` `arg2=-80(%bx):u64`;
    /// ``USDTArgument`` lists every form). A probe with a semaphore gets it as the uprobe's reference
    /// counter (`path:0xOFFSET(0xSEMAPHORE)`): while the event is enabled, the kernel increments the
    /// semaphore in every process that maps the file, which makes the program run the probe
    /// (without it, a guarded probe never fires). libtracefs 1.6.4 cannot write that form, so
    /// ``create()`` writes the definition itself; ``destroy(force:)`` and listing work as for any
    /// uprobe.
    ///
    /// - Parameters:
    ///   - system: The group; `sdt_PROVIDER` when `nil`.
    ///   - event: The event name; ``EventName/sanitized(_:)`` of the probe's name when `nil`.
    ///   - probe: The probe.
    ///   - argumentNames: One field name per argument, an empty one to leave it out; `arg1`,
    ///     `arg2`, ... when `nil`.
    ///   - userStrings: Names of arguments to fetch as the user-space string they point to.
    /// - Throws: ``TraceFSError`` with `invalidArgument`, before anything is written to the kernel:
    ///   an argument the kernel cannot fetch (with the reason), a count of names other than the
    ///   probe's argument count, a repeated or malformed name, a user string that is not a pointer,
    ///   or a probe or semaphore outside the file's loadable segments. `notFound` when the file is
    ///   gone.
    ///
    /// The corresponding C function is `tracefs_uprobe_alloc`; a probe with a semaphore is
    /// written with `tracefs_instance_file_append`.
    public static func usdt(
        system: String? = nil, event: String? = nil, probe: USDTProbe, argumentNames: [String]? = nil,
        userStrings: Set<String> = []
    ) throws(TraceFSError) -> DynamicEvent {
        let input = ProbeInput(operation: "describe USDT probe \(ProbeInput.display(probe.provider)):"
            + "\(ProbeInput.display(probe.name)) of \(ProbeInput.display(probe.file))")
        let system = system ?? "sdt_" + EventName.sanitized(probe.provider)
        let event = event ?? EventName.sanitized(probe.name)
        try input.name(system, as: "group")
        try input.name(event, as: "event")
        let fetchArgs = try usdtFetchArguments(probe, names: argumentNames, userStrings: userStrings, input: input)
        guard let offset = probe.fileOffset else {
            throw input.invalid("the probe's address 0x\(String(probe.address, radix: 16)) lies in none of the file's "
                + "loadable segments (PT_LOAD); the note does not match the file")
        }
        var suffix = ""
        if probe.hasSemaphore {
            guard let semaphore = probe.semaphoreFileOffset else {
                throw input.invalid("the probe's semaphore at 0x\(String(probe.semaphoreAddress ?? 0, radix: 16)) lies in "
                    + "none of the file's loadable segments, so the kernel cannot count on it; the note does not "
                    + "match the file")
            }
            // As the kernel lists it: "(0x%lx)".
            suffix = "(0x\(String(semaphore, radix: 16)))"
        }
        try input.format(fetchArgs, as: "fetch arguments")
        let path = try input.userBinary(probe.file, offset: offset)
        try input.commandLength(system, event, path, fetchArgs, extra: ":0x0000000000000000".utf8.count + suffix.utf8.count)
        return try allocated("tracefs_uprobe_alloc", operation: input.operation(), addressSuffix: suffix) {
            withCStrings(system, event, path, fetchArgs) { system, event, path, fetchArgs, _ in
                tracefs_uprobe_alloc(system, event, path, offset, fetchArgs)
            }
        }
    }

    /// The fetch arguments of `probe`'s arguments under `names`, or `nil` for none.
    private static func usdtFetchArguments(
        _ probe: USDTProbe, names: [String]?, userStrings: Set<String>, input: ProbeInput
    ) throws(TraceFSError) -> String? {
        let arguments = probe.arguments
        let names = names ?? arguments.indices.map { "arg\($0 + 1)" }
        guard names.count == arguments.count else {
            throw input.invalid("\(names.count) argument names for \(arguments.count) arguments "
                + "(\(arguments.map(\.spec).joined(separator: " "))); give one name per argument, an empty one to "
                + "leave it out")
        }
        var seen = Set<String>()
        var fetches: [String] = []
        for (name, argument) in zip(names, arguments) where !name.isEmpty {
            try input.name(name, as: "argument")
            guard !name.hasPrefix("common_"), !name.hasPrefix("__probe") else {
                throw input.invalid("argument name \(ProbeInput.display(name)) is reserved for the event's own fields")
            }
            guard seen.insert(name).inserted else {
                throw input.invalid("argument name \(ProbeInput.display(name)) is given twice")
            }
            if userStrings.contains(name) {
                guard let fetch = argument.userStringFetchArgument else {
                    throw input.invalid("argument \(name) (\(argument.spec)) cannot be fetched as a string: "
                        + (argument.userStringRefusal ?? "unknown reason"))
                }
                fetches.append("\(name)=\(fetch)")
            } else {
                guard let fetch = argument.fetchArgument else {
                    throw input.invalid("argument \(name) cannot be fetched: \(argument.refusal ?? "unknown reason"); "
                        + "leave it out with an empty name in argumentNames")
                }
                fetches.append("\(name)=\(fetch)")
            }
        }
        if let unknown = userStrings.subtracting(seen).sorted().first {
            throw input.invalid("userStrings names \(ProbeInput.display(unknown)), which is not one of the fetched "
                + "arguments (\(seen.sorted().joined(separator: ", ")))")
        }
        return fetches.isEmpty ? nil : fetches.joined(separator: " ")
    }
}
