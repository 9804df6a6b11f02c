import CTraceFS
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A histogram the kernel keeps for one event (a `hist` trigger): it counts the events by key and
/// sums values, without sending a single record to user space.
///
/// A `Histogram` owns its libtracefs descriptor (`struct tracefs_hist`) and frees it when it goes
/// away. Starting and destroying the kernel's histogram are explicit calls.
///
/// ```swift
/// let instance = try Instance.create(named: "opens")
/// let opens = try Histogram(in: instance, system: "syscalls", event: "sys_enter_openat",
///                           keys: [Histogram.Key("common_pid", .execname)],
///                           sortedBy: [.hitCount(descending: true)])
/// try opens.start()
/// // ... the workload ...
/// for row in try opens.read().rows {
///     print(row.key("common_pid") ?? .number(0), row.hitCount)
/// }
/// try opens.destroy()
/// try instance.destroy()
/// ```
///
/// Histograms need a kernel with CONFIG_HIST_TRIGGERS; elsewhere every call throws `unsupported`.
public final class Histogram: CustomStringConvertible {
    private let pointer: OpaquePointer
    /// Serializes libtracefs's use of the descriptor.
    private let lock = Mutex(())
    /// The instance whose event the histogram is on.
    public let instance: Instance
    /// The event's system.
    public let system: String
    /// The event.
    public let event: String
    /// The keys, in order.
    public let keys: [Key]
    /// The summed fields (`hitcount` is always counted).
    public let values: [String]
    /// The sort keys, at most two.
    public let sortKeys: [SortKey]
    /// The histogram's name, which lets other events' triggers share it.
    public let name: String?
    /// The filter's text as written, if any.
    public let filterText: String?
    /// Fields that are strings, so that their keys are read as strings.
    private let stringFields: Set<String>

    /// Describes a histogram on `system/event` in `instance`; ``start()`` makes the kernel keep it.
    ///
    /// Every key, value, sort key and the filter are checked against the event's format first.
    ///
    /// - Parameters:
    ///   - instance: The instance whose event is counted.
    ///   - system: The event's system.
    ///   - event: The event.
    ///   - keys: One or more keys (at most three fields plus a stack trace make sense).
    ///   - values: Numeric fields to sum per key.
    ///   - sortKeys: Up to two sort keys: `hitcount`, a value, or a key's field (without its modifier).
    ///   - name: A name, so that other triggers can refer to it.
    ///   - filter: Count only events for which it holds.
    ///   - catalog: The event formats; `nil` loads those of `system`.
    /// - Throws: ``TraceFSError``: `unsupported` without CONFIG_HIST_TRIGGERS; `invalidArgument`
    ///   for an unknown field (naming the event's fields), a modifier that does not fit the field,
    ///   a bad bucket size, more than two sort keys or a malformed name; `notFound` for an unknown
    ///   event.
    ///
    /// The corresponding C functions are `tracefs_hist_alloc_nd_cnt`, `tracefs_hist_add_value`,
    /// `tracefs_hist_add_sort_key`, `tracefs_hist_sort_key_direction`, `tracefs_hist_add_name` and
    /// `tracefs_hist_append_filter`.
    public init(
        in instance: Instance, system: String, event: String, keys: [Key], values: [String] = [],
        sortedBy sortKeys: [SortKey] = [], name: String? = nil, filter: EventFilter? = nil,
        catalog: EventCatalog? = nil
    ) throws(TraceFSError) {
        let operation = "describe a histogram on \(ProbeInput.display(system))/\(ProbeInput.display(event))"
        let catalog = try EventCatalog.given(catalog, system: system, operation: operation)
        let (parsed, format) = try catalog.parsedEvent(system: system, name: event, operation: operation)
        let check = HistogramCheck(format: format, operation: operation)
        try check.keys(keys)
        try check.values(values)
        try check.sortKeys(sortKeys, keys: keys, values: values)
        if let name { try ProbeInput(operation: operation).name(name, as: "histogram") }
        let compiler = FilterCompiler(event: parsed, format: format, operation: operation)
        let filterText = try filter.map { (filter) throws(TraceFSError) in try compiler.text(of: filter) }
        // Bad input is reported as such on every kernel; only then whether this one has histograms.
        try Self.requireHistograms(operation)

        let pointer = withCStrings(system, event, nil, nil) { system, event, _, _, _ in
            var axes = keys.map { key in
                tracefs_hist_axis_cnt(key: strdup(key.field), type: key.modifier.cValue, cnt: key.modifier.bucketSize)
            }
            axes.append(tracefs_hist_axis_cnt(key: nil, type: TRACEFS_HIST_KEY_NORMAL, cnt: 0))
            defer { for axis in axes { free(UnsafeMutablePointer(mutating: axis.key)) } }
            return catalog.withHandle { handle in withClearedErrno { tracefs_hist_alloc_nd_cnt(handle, system, event, &axes) } }
        }
        guard let pointer else {
            let error = currentErrno()
            throw TraceFSError(error == ENOMEM ? .outOfMemory : .invalidArgument, operation: operation,
                               reason: "libtracefs could not describe the histogram",
                               function: "tracefs_hist_alloc_nd_cnt", errno: reportableErrno(error))
        }
        self.pointer = pointer
        self.instance = instance
        self.system = system
        self.event = event
        self.keys = keys
        self.values = values
        self.sortKeys = sortKeys
        self.name = name
        self.filterText = filterText
        self.stringFields = Set((format.fields + format.commonFields).filter { $0.kind == .string || $0.kind == .dynamicString }
            .map(\.name))
        // From here on, `deinit` frees the descriptor whatever fails.
        for value in values {
            try build("tracefs_hist_add_value", operation) { tracefs_hist_add_value(pointer, value) }
        }
        for sortKey in sortKeys {
            try build("tracefs_hist_add_sort_key", operation) { tracefs_hist_add_sort_key(pointer, sortKey.name) }
            if sortKey.descending {
                try build("tracefs_hist_sort_key_direction", operation) {
                    tracefs_hist_sort_key_direction(pointer, sortKey.name, TRACEFS_HIST_SORT_DESCENDING)
                }
            }
        }
        if let name {
            try build("tracefs_hist_add_name", operation) { tracefs_hist_add_name(pointer, name) }
        }
        if let filter {
            for token in FilterCompiler.tokens(of: filter) {
                let result = withClearedErrno {
                    tracefs_hist_append_filter(pointer, token.type, token.field, token.comparison, token.value)
                }
                guard result == 0 else {
                    throw compiler.appendFailure(function: "tracefs_hist_append_filter", errno: currentErrno(), field: token.field)
                }
            }
        }
    }

    deinit {
        tracefs_hist_free(pointer)
    }

    private func build(_ function: String, _ operation: String, _ call: () -> Int32) throws(TraceFSError) {
        guard withClearedErrno(call) == 0 else {
            let error = currentErrno()
            throw TraceFSError(error == ENOMEM ? .outOfMemory : .invalidArgument, operation: operation,
                               reason: "libtracefs refused a part of the histogram", function: function,
                               errno: reportableErrno(error))
        }
    }

    /// "histogram on syscalls/sys_enter_openat keyed by common_pid.execname".
    public var description: String {
        "histogram \(name.map { "'\($0)' " } ?? "")on \(system)/\(event) keyed by "
            + keys.map(\.text).joined(separator: ",")
    }

    // MARK: - Kernel commands

    /// Makes the kernel keep the histogram: writes its trigger.
    ///
    /// - Throws: ``TraceFSError``: `unsupported` without CONFIG_HIST_TRIGGERS; `invalidArgument`
    ///   with the kernel's message when it refuses the trigger; `alreadyExists` when the same
    ///   histogram is running.
    ///
    /// The corresponding C function is `tracefs_hist_start`.
    public func start() throws(TraceFSError) { try command(TRACEFS_HIST_CMD_START, "start") }

    /// Stops counting, keeping the table. The corresponding C function is `tracefs_hist_pause`.
    public func pause() throws(TraceFSError) { try command(TRACEFS_HIST_CMD_PAUSE, "pause") }

    /// Counts again after ``pause()``. The corresponding C function is `tracefs_hist_continue`.
    public func resume() throws(TraceFSError) { try command(TRACEFS_HIST_CMD_CONT, "continue") }

    /// Empties the table. The corresponding C function is `tracefs_hist_reset`.
    public func clear() throws(TraceFSError) { try command(TRACEFS_HIST_CMD_CLEAR, "clear") }

    /// Removes the kernel's histogram. Removing one that is not there is not an error, so calling
    /// this twice is safe.
    ///
    /// The corresponding C function is `tracefs_hist_destroy`.
    public func destroy() throws(TraceFSError) {
        guard isActive else { return }
        try command(TRACEFS_HIST_CMD_DESTROY, "destroy")
    }

    /// Whether the kernel has this histogram (its trigger is in the event's `trigger` file).
    public var isActive: Bool {
        guard let text = instance.eventFile(system: system, event: event, file: "hist") else { return false }
        return ((try? HistogramTable.parseAll(text, stringFields: stringFields)) ?? []).contains(where: matches)
    }

    private func command(_ command: tracefs_hist_command, _ verb: String) throws(TraceFSError) {
        let operation = "\(verb) the \(description) in the \(instance.description)"
        try Self.requireHistograms(operation)
        let result = lock.withLock { _ in
            instance.withDescriptor { descriptor in withClearedErrno { tracefs_hist_command(descriptor, pointer, command) } }
        }
        guard result == 0 else {
            // libtracefs 1.6.4 sets errno to -EINVAL itself, and returns without errno when the
            // event has no hist file.
            let raw = currentErrno()
            let error = raw < 0 ? -raw : raw
            let hasHistFile = instance.withDescriptor { tracefs_event_file_exists($0, system, event, "hist") }
            guard hasHistFile else {
                throw TraceFSError(.notFound, operation: operation,
                                   reason: "the event has no hist file in this instance; is the event there?",
                                   function: "tracefs_hist_command", errno: reportableErrno(error))
            }
            let message = instance.directory.flatMap {
                KernelErrorLog(tracingDirectory: $0).message(about: triggerText(command))
            }
            throw TraceFSError(
                message != nil ? .invalidArgument : TraceFSError.Code.from(errno: error), operation: operation,
                reason: "the kernel refused the trigger", function: "tracefs_hist_command",
                errno: reportableErrno(error), kernelMessage: message)
        }
    }

    /// The trigger line libtracefs writes for `command` (its `add_hist_commands`), as the kernel
    /// logs it with a failure.
    func triggerText(_ command: tracefs_hist_command) -> String {
        var text = (command == TRACEFS_HIST_CMD_DESTROY ? "!" : "") + "hist:keys=" + keys.map(\.text).joined(separator: ",")
        if !values.isEmpty { text += ":vals=" + values.joined(separator: ",") }
        if !sortKeys.isEmpty {
            text += ":sort=" + sortKeys.map { $0.name + ($0.descending ? ".descending" : "") }.joined(separator: ",")
        }
        switch command {
        case TRACEFS_HIST_CMD_PAUSE: text += ":pause"
        case TRACEFS_HIST_CMD_CONT: text += ":cont"
        case TRACEFS_HIST_CMD_CLEAR: text += ":clear"
        default: break
        }
        if let name { text += ":name=\(name)" }
        if let filterText { text += " if \(filterText)" }
        return text
    }

    /// Throws `unsupported` naming CONFIG_HIST_TRIGGERS when the kernel has no histograms.
    static func requireHistograms(_ operation: String) throws(TraceFSError) {
        let directory = try TracingDirectory.path(for: operation)
        guard KernelFile.read(directory + "/README")?.contains("hist:keys") == true else {
            throw TraceFSError(.unsupported, operation: operation,
                               reason: "this kernel has no histogram triggers (CONFIG_HIST_TRIGGERS); "
                                   + "use a kernel built with it")
        }
    }

    // MARK: - Reading

    /// The kernel's table now, parsed from the event's `hist` file (the table is not cleared).
    ///
    /// - Throws: ``TraceFSError``: `unsupported` without CONFIG_HIST_TRIGGERS, `notFound` when the
    ///   histogram is not started, `decodingFailed` when the file does not parse.
    ///
    /// The corresponding C function is `tracefs_event_file_read`.
    public func read() throws(TraceFSError) -> HistogramTable {
        let operation = "read the \(description)"
        try Self.requireHistograms(operation)
        guard instance.withDescriptor({ tracefs_event_file_exists($0, system, event, "hist") }) else {
            throw TraceFSError(.notFound, operation: operation, reason: "the event has no hist file in the \(instance)")
        }
        // An event without histograms has an empty hist file, which libtracefs reads as nothing.
        let text = instance.eventFile(system: system, event: event, file: "hist") ?? ""
        guard let table = try HistogramTable.parseAll(text, stringFields: stringFields).first(where: matches) else {
            throw TraceFSError(.notFound, operation: operation, reason: "the kernel has no such histogram; start() it first")
        }
        return table
    }

    /// Whether a table of the hist file is this histogram's: same keys, name and filter.
    private func matches(_ table: HistogramTable) -> Bool {
        let ours = keys.map { HistogramTable.keySpec(field: $0.field, modifier: $0.modifier.name, bucketSize: $0.modifier.bucketCount) }
        guard table.keys == ours else { return false }
        if let name, !table.trigger.hasPrefix("hist:name=\(name):") { return false }
        if let filterText { return table.trigger.hasSuffix(" if \(filterText)") }
        return !table.trigger.contains(" if ")
    }
}

extension Histogram.KeyModifier {
    /// The modifier's name as the trigger lists it, `nil` for none.
    var name: String? {
        let suffix = self.suffix
        guard !suffix.isEmpty else { return nil }
        let text = suffix.dropFirst()
        return String(text.prefix { $0 != "=" })
    }

    var bucketCount: Int? {
        if case .buckets(let size) = self { return size }
        return nil
    }

    var bucketSize: Int32 {
        if case .buckets(let size) = self { return Int32(clamping: size) }
        return 0
    }
}

// Sendable: every stored property is immutable; libtracefs's uses of the descriptor are serialized
// by `lock`, and reading the hist file does not touch it.
extension Histogram: @unchecked Sendable {}
