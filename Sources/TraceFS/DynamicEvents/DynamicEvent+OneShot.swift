import CTraceFS

extension DynamicEvent {
    /// Defines a kprobe in one call, without keeping a descriptor.
    ///
    /// The arguments are those of ``kprobe(system:event:address:format:)`` and are checked the same
    /// way before anything is written, the symbol against `/proc/kallsyms` included.
    ///
    /// - Parameters:
    ///   - system: The group, `kprobes` when `nil`.
    ///   - event: The event name; from `address` when `nil`.
    ///   - address: `[module:]symbol[+offset]` or a hexadecimal address.
    ///   - format: Fetch arguments, such as `file=+0($arg2):ustring`.
    /// - Throws: ``TraceFSError``, as ``create()`` does.
    ///
    /// The corresponding C function is `tracefs_kprobe_raw`. It keeps static state and is not
    /// thread-safe; this overlay serializes every call to it.
    public static func createKprobe(
        system: String? = nil, event: String? = nil, address: String, format: String? = nil
    ) throws(TraceFSError) {
        let event = try checkedKernelProbe(.kprobe, system: system, event: event, address: address, format: format)
        try KernelWrite.perform(
            "tracefs_kprobe_raw", operation: "create kprobe \(system ?? "kprobes")/\(event) on \(address)", kinds: .kprobe,
            subject: "\(system ?? "kprobes")/\(event)", command: "p:\(system ?? "kprobes")/\(event) \(address) \(format ?? "")"
        ) { _ in tracefs_kprobe_raw(system, event, address, format) }
    }

    /// Defines a kretprobe in one call, without keeping a descriptor.
    ///
    /// The arguments are those of ``kretprobe(system:event:address:format:maxActive:)`` without
    /// `maxActive`.
    ///
    /// - Parameters:
    ///   - system: The group, `kprobes` when `nil`.
    ///   - event: The event name; from `address` when `nil`.
    ///   - address: The function: `[module:]symbol[+offset]` or a hexadecimal address.
    ///   - format: Fetch arguments, such as `ret=$retval`.
    /// - Throws: ``TraceFSError``, as ``create()`` does.
    ///
    /// The corresponding C function is `tracefs_kretprobe_raw`, serialized like `tracefs_kprobe_raw`.
    public static func createKretprobe(
        system: String? = nil, event: String? = nil, address: String, format: String? = nil
    ) throws(TraceFSError) {
        let event = try checkedKernelProbe(.kretprobe, system: system, event: event, address: address, format: format)
        try KernelWrite.perform(
            "tracefs_kretprobe_raw", operation: "create kretprobe \(system ?? "kprobes")/\(event) on \(address)", kinds: .kretprobe,
            subject: "\(system ?? "kprobes")/\(event)", command: "r:\(system ?? "kprobes")/\(event) \(address) \(format ?? "")"
        ) { _ in tracefs_kretprobe_raw(system, event, address, format) }
    }

    /// Removes kprobes and kretprobes by name, as the libtracefs man page's `tracefs_kprobe_destroy`
    /// does (libtracefs 1.6.4 no longer has that function).
    ///
    /// Every argument that is not `nil` must match: `system` (default `kprobes`), `event` (default:
    /// every event of the group), and the probe's `address` and `format` as the kernel lists them.
    /// Removing nothing is not an error.
    ///
    /// - Parameters:
    ///   - system: The group, `kprobes` when `nil`.
    ///   - event: The event name, or `nil` for every kprobe and kretprobe of the group.
    ///   - address: Only probes on this address, as the kernel lists it.
    ///   - format: Only probes with this format, as the kernel lists it.
    ///   - force: Disable enabled events first instead of failing with `busy`.
    /// - Returns: How many events were removed.
    /// - Throws: ``TraceFSError`` for the first event that could not be removed.
    ///
    /// Names are compared exactly (`G/k1` is not `g/k1`), and with `force` only the matching events
    /// are disabled. Built on `tracefs_dynevent_get_all` and ``destroy(_:force:)``.
    @discardableResult
    public static func destroyKprobe(
        system: String? = nil, event: String? = nil, address: String? = nil, format: String? = nil, force: Bool = false
    ) throws(TraceFSError) -> Int {
        let system = system ?? "kprobes"
        let input = ProbeInput(operation: "destroy kprobes \(ProbeInput.display(system))/\(event.map(ProbeInput.display) ?? "*")")
        if let event { try input.name(event, as: "event") }
        let matching = try all([.kprobe, .kretprobe], system: system).filter { probe in
            (event == nil || probe.event == event) && (address == nil || probe.address == address)
                && (format == nil || probe.format == format)
        }
        try destroy(matching, force: force)
        return matching.count
    }
}
