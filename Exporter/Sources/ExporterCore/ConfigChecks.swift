import TraceFS

/// The checks of a decoded configuration that need no kernel: names, references, buckets,
/// regular expressions, and every probe described (not created) with the library's factories.
struct ConfigChecks {
    let loader: ConfigLoader

    /// Fields every event has.
    static let commonFields: Set<String> = ["common_pid", "common_type", "common_flags", "common_preempt_count"]
    /// Modifiers a label's key may have.
    static let labelModifiers: [String: Histogram.KeyModifier] = [
        "": .plain, "execname": .execname, "syscall": .syscall, "sym": .symbol, "sym-offset": .symbolOffset, "hex": .hex,
    ]
    static let operators: [String: EventFilter.Comparison] = [
        "==": .equal, "!=": .notEqual, "<": .less, "<=": .lessOrEqual, ">": .greater, ">=": .greaterOrEqual,
        "&": .bitsSet, "~": .matches,
    ]
    /// The names this exporter uses for its own metrics.
    static let reservedPrefix = "tracefs_exporter_"

    func fail(_ path: [ConfigPath], _ message: String) -> ConfigError { loader.error(at: path, message) }

    func check(_ config: ExporterConfig) throws(ConfigError) {
        var probes: [String: Probe] = [:]
        if config.probes.isEmpty, !config.metrics.histograms.contains(where: { $0.latency != nil }) {
            throw fail([.key("probes")], "no probes; add at least one")
        }
        for (index, probe) in config.probes.enumerated() {
            let path: [ConfigPath] = [.key("probes"), .index(index)]
            guard probe.name.utf8.count <= 52 else {
                throw fail(path + [.key("name")], "at most 52 characters (the kernel's 63, less the process id the exporter adds)")
            }
            guard probes[probe.name] == nil else { throw fail(path + [.key("name")], "a second probe named '\(probe.name)'") }
            try check(probe, path: path)
            probes[probe.name] = probe
        }
        var names: Set<String> = []
        for (index, counter) in config.metrics.counters.enumerated() {
            let path: [ConfigPath] = [.key("metrics"), .key("counters"), .index(index)]
            try checkName(counter.name, path: path + [.key("name")], names: &names)
            try checkHelp(counter.help, path: path + [.key("help")])
            guard let probe = probes[counter.probe] else {
                throw fail(path + [.key("probe")], "no probe named '\(counter.probe)'; probes: \(probes.keys.sorted().joined(separator: ", "))")
            }
            try checkLabels(counter.labels ?? [], fields: Set(probe.fieldNames), path: path)
        }
        for (index, histogram) in config.metrics.histograms.enumerated() {
            let path: [ConfigPath] = [.key("metrics"), .key("histograms"), .index(index)]
            try checkName(histogram.name, path: path + [.key("name")], names: &names)
            try checkHelp(histogram.help, path: path + [.key("help")])
            try check(histogram, probes: probes, path: path)
        }
        if names.isEmpty { throw fail([.key("metrics")], "no metrics; add a counter or a histogram") }
    }

    private func check(_ probe: Probe, path: [ConfigPath]) throws(ConfigError) {
        let args = probe.fetchArgs?.joined(separator: " ")
        for (index, arg) in (probe.fetchArgs ?? []).enumerated() {
            if let problem = Self.fetchArgumentProblem(arg) { throw fail(path + [.key("fetch_args"), .index(index)], problem) }
        }
        do {
            switch probe.type {
            case .kprobe, .kretprobe:
                guard let address = probe.address else { throw fail(path, "a \(probe.type) needs `address:` (a kernel symbol)") }
                for key in ["file", "symbol", "offset"] where field(probe, key) {
                    throw fail(path + [.key(key)], "a \(probe.type) has `address:`, not `\(key):`")
                }
                if probe.type == .kprobe {
                    if probe.maxActive != nil { throw fail(path + [.key("max_active")], "only kretprobes have max_active") }
                    _ = try DynamicEvent.kprobe(system: "check", event: probe.name, address: address, format: args)
                } else {
                    _ = try DynamicEvent.kretprobe(system: "check", event: probe.name, address: address, format: args,
                                                   maxActive: probe.maxActive ?? 0)
                }
            case .uprobe, .uretprobe:
                guard let file = probe.file else { throw fail(path, "a \(probe.type) needs `file:` and `symbol:` or `offset:`") }
                if probe.address != nil { throw fail(path + [.key("address")], "a \(probe.type) has `file:`, not `address:`") }
                if probe.maxActive != nil { throw fail(path + [.key("max_active")], "only kretprobes have max_active") }
                if let symbol = probe.symbol {
                    if probe.type == .uprobe {
                        _ = try DynamicEvent.uprobe(system: "check", event: probe.name, file: file, symbol: symbol,
                                                    offset: probe.offset ?? 0, fetchArgs: args)
                    } else {
                        if probe.offset != nil { throw fail(path + [.key("offset")], "a uretprobe by symbol takes no offset") }
                        _ = try DynamicEvent.uretprobe(system: "check", event: probe.name, file: file, symbol: symbol, fetchArgs: args)
                    }
                } else if let offset = probe.offset {
                    if probe.type == .uprobe {
                        _ = try DynamicEvent.uprobe(system: "check", event: probe.name, file: file, offset: offset, fetchArgs: args)
                    } else {
                        _ = try DynamicEvent.uretprobe(system: "check", event: probe.name, file: file, offset: offset, fetchArgs: args)
                    }
                } else {
                    throw fail(path, "a \(probe.type) needs `symbol:` or `offset:`")
                }
            }
        } catch let error as ConfigError {
            throw error
        } catch let error as TraceFSError {
            throw fail(path + [blame(error, probe)], error.description)
        } catch {
            throw fail(path, "\(error)")
        }
        let fields = Set(probe.fieldNames)
        for (index, filter) in (probe.filters ?? []).enumerated() {
            let here = path + [.key("filters"), .index(index)]
            guard fields.contains(filter.field) || Self.commonFields.contains(filter.field) else {
                throw fail(here + [.key("field")], "no field '\(filter.field)' in this probe's events; fields: "
                           + (fields.sorted() + Self.commonFields.sorted()).joined(separator: ", "))
            }
            guard let comparison = Self.operators[filter.op] else {
                throw fail(here + [.key("op")], "unknown operator; use one of == != < <= > >= & ~")
            }
            if filter.value.contains(where: { $0.isNewline || $0 == "\"" || $0 == "#" || $0 == "\0" })
                || filter.value.unicodeScalars.contains(where: Self.isControlOrFormat) {
                throw fail(here + [.key("value")], "a filter value may not contain newlines, quotes, `#`, NUL or control characters")
            }
            let isString = Self.stringFields(of: probe).contains(filter.field)
            if isString {
                guard [.equal, .notEqual, .matches].contains(comparison) else {
                    throw fail(here + [.key("op")], "'\(filter.field)' is a string: compare it with ==, != or ~")
                }
            } else {
                guard comparison != .matches else {
                    throw fail(here + [.key("op")], "'\(filter.field)' is a number: ~ compares strings")
                }
                guard Int64(filter.value) != nil || UInt64(filter.value) != nil else {
                    throw fail(here + [.key("value")], "'\(filter.field)' is a number: the value must be a decimal integer")
                }
            }
        }
    }

    /// Why a fetch argument cannot be one, or nil: it is `name=spec`, the name a C identifier, the
    /// whole one word of printable ASCII without `#` (which starts a comment in the kernel's parser).
    static func fetchArgumentProblem(_ arg: String) -> String? {
        if arg.isEmpty || arg.contains(where: { $0.isWhitespace }) { return "a fetch argument is one word, such as size=%di:u64" }
        if !arg.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) {
            return "a fetch argument is printable ASCII, such as size=%di:u64"
        }
        if arg.contains("#") { return "`#` starts a comment in the kernel's probe parser" }
        guard let equals = arg.firstIndex(of: "="), arg.index(after: equals) < arg.endIndex else {
            return "a fetch argument is name=spec, such as size=%di:u64 (the name is the field metrics use)"
        }
        let name = arg[..<equals]
        guard name.utf8.count <= 63, let first = name.unicodeScalars.first,
              first == "_" || ("a"..."z").contains(first) || ("A"..."Z").contains(first),
              name.unicodeScalars.allSatisfy({ $0 == "_" || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) })
        else { return "the field name '\(name)' is not a C identifier (letters, digits and _, not starting with a digit)" }
        return nil
    }

    /// Control, C1, bidirectional formatting and other invisible format characters.
    static func isControlOrFormat(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.properties.generalCategory == .format
            || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    /// The probe's fetched fields that are strings (`:string`, `:ustring`, `$comm`); the others,
    /// and the common fields, are numbers.
    static func stringFields(of probe: Probe) -> Set<String> {
        Set((probe.fetchArgs ?? []).compactMap { arg -> String? in
            let parts = arg.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            let spec = parts[1]
            let type = spec.split(separator: ":").last.map(String.init) ?? ""
            return spec.lowercased() == "$comm" || ["string", "ustring", "symstr"].contains(type) ? String(parts[0]) : nil
        })
    }

    private func field(_ probe: Probe, _ key: String) -> Bool {
        switch key {
        case "file": probe.file != nil
        case "symbol": probe.symbol != nil
        case "offset": probe.offset != nil
        default: false
        }
    }

    /// The field a factory's error is most likely about.
    private func blame(_ error: TraceFSError, _ probe: Probe) -> ConfigPath {
        let text = error.reason
        if text.contains("file path") || text.contains("no such file") || text.contains("not an ELF") { return .key("file") }
        if text.contains("event name") || text.contains("event '") && text.contains("identifier") { return .key("name") }
        if probe.type.isUser {
            if probe.symbol != nil, text.contains("function") || text.contains("symbol") { return .key("symbol") }
            if text.contains("offset") { return .key("offset") }
            if text.contains("file") || text.contains("path") || text.contains("ELF") { return .key("file") }
        } else if text.contains("address") || text.contains("%return") || text.contains("function")
                    || text.contains("symbol") || text.contains("kallsyms")
                    || (text.contains("bytes long") && (probe.address?.utf8.count ?? 0) > 1024) {
            return .key("address")
        }
        if text.contains("maxActive") { return .key("max_active") }
        if probe.fetchArgs != nil { return .key("fetch_args") }
        return .key("name")
    }

    private func checkName(_ name: String, path: [ConfigPath], names: inout Set<String>) throws(ConfigError) {
        guard MetricName.isValid(name) else {
            throw fail(path, "not a Prometheus metric name: use letters, digits, _ and :, not starting with a digit")
        }
        guard !name.hasPrefix(Self.reservedPrefix) else {
            throw fail(path, "names starting with \(Self.reservedPrefix) are the exporter's own")
        }
        for suffix in ["", "_bucket", "_sum", "_count"] {
            guard !names.contains(name + suffix), !names.contains(where: { $0 + suffix == name }) else {
                throw fail(path, "a second metric named '\(name)' (or a histogram's series of that name); each name is one family")
            }
        }
        names.insert(name)
    }

    private func checkHelp(_ help: String?, path: [ConfigPath]) throws(ConfigError) {
        if let help, help.count > 1024 { throw fail(path, "help text longer than 1024 characters") }
    }

    private func checkLabels(_ labels: [Label], fields: Set<String>, path: [ConfigPath], reserved: Set<String> = [])
        throws(ConfigError)
    {
        var seen = reserved
        guard labels.count <= 3 else { throw fail(path + [.key("labels")], "at most 3 labels (the kernel's hist keys)") }
        for (index, label) in labels.enumerated() {
            let here = path + [.key("labels"), .index(index)]
            guard MetricName.isValidLabel(label.name), label.name != "le" else {
                throw fail(here + [.key("name")], "not a Prometheus label name: letters, digits and _, not starting with a digit or __, not `le`")
            }
            guard seen.insert(label.name).inserted else { throw fail(here + [.key("name")], "a second label named '\(label.name)'") }
            let (field, modifier) = Self.split(label.field)
            guard Self.labelModifiers[modifier] != nil else {
                throw fail(here + [.key("field")], "unknown modifier '.\(modifier)'; use execname, syscall, sym, sym-offset or hex")
            }
            guard fields.contains(field) || Self.commonFields.contains(field) else {
                throw fail(here + [.key("field")], "no field '\(field)' in the event; fields: "
                           + (fields.sorted() + Self.commonFields.sorted()).joined(separator: ", "))
            }
            for (position, pattern) in (label.regexp ?? []).enumerated() {
                do { _ = try Regex(pattern) } catch {
                    throw fail(here + [.key("regexp"), .index(position)], "not a regular expression: \(error)")
                }
            }
        }
    }

    static func split(_ keyField: String) -> (String, String) {
        guard let dot = keyField.firstIndex(of: ".") else { return (keyField, "") }
        return (String(keyField[..<dot]), String(keyField[keyField.index(after: dot)...]))
    }

    private func check(_ histogram: HistogramMetric, probes: [String: Probe], path: [ConfigPath]) throws(ConfigError) {
        let fields: Set<String>
        switch (histogram.latency, histogram.probe) {
        case (let latency?, nil):
            if histogram.field != nil { throw fail(path + [.key("field")], "a latency histogram has no field") }
            try check(latency, path: path + [.key("latency")])
            fields = ["pid"]
        case (nil, let probeName?):
            guard let probe = probes[probeName] else {
                throw fail(path + [.key("probe")], "no probe named '\(probeName)'; probes: \(probes.keys.sorted().joined(separator: ", "))")
            }
            guard let field = histogram.field else { throw fail(path, "a histogram of a probe needs `field:` (a fetched value)") }
            guard probe.fieldNames.contains(field) else {
                throw fail(path + [.key("field")], "probe '\(probeName)' fetches no '\(field)'; it fetches: \(probe.fieldNames.joined(separator: ", "))")
            }
            fields = Set(probe.fieldNames)
        case (nil, nil):
            throw fail(path, "a histogram needs `latency:` or `probe:` and `field:`")
        case (_?, _?):
            throw fail(path + [.key("probe")], "a histogram has either `latency:` or `probe:`, not both")
        }
        let buckets = try Buckets(histogram, path: path, checks: self)
        _ = buckets
        try checkLabels(histogram.labels ?? [], fields: fields, path: path,
                        reserved: histogram.latency?.byProcess == true ? ["comm"] : [])
    }

    private func check(_ latency: Latency, path: [ConfigPath]) throws(ConfigError) {
        if let unit = latency.unit, unit != "microseconds", unit != "nanoseconds" {
            throw fail(path + [.key("unit")], "unit is microseconds or nanoseconds")
        }
        do {
            switch (latency.function, latency.file) {
            case (let function?, nil):
                if latency.symbol != nil || latency.offset != nil {
                    throw fail(path + [.key(latency.symbol != nil ? "symbol" : "offset")], "a kernel function has no symbol or offset")
                }
                _ = try DynamicEvent.kprobe(system: "check", event: "entry", address: function)
            case (nil, let file?):
                // The file alone first, so that its faults are reported at `file:`.
                do { _ = try DynamicEvent.uprobe(system: "check", event: "entry", file: file, offset: 0) } catch {
                    throw fail(path + [.key("file")], error.description)
                }
                _ = try Self.userFunction(file: file, symbol: latency.symbol, offset: latency.offset)
            case (nil, nil):
                throw fail(path, "latency needs `function:` (kernel) or `file:` with `symbol:` or `offset:`")
            case (_?, _?):
                throw fail(path + [.key("file")], "latency has either `function:` or `file:`, not both")
            }
        } catch let error as ConfigError {
            throw error
        } catch let error as TraceFSError {
            let text = error.reason
            let key = latency.function != nil ? "function"
                : text.contains("file path") || text.contains("no such file") || text.contains("ELF") || latency.symbol == nil ? "file"
                : "symbol"
            throw fail(path + [.key(key)], error.description)
        } catch {
            throw fail(path + [.key(latency.function != nil ? "function" : latency.symbol != nil ? "symbol" : "file")], "\(error)")
        }
    }

    /// The library's form of a user-space function: a symbol is resolved to its file offset by
    /// describing (not creating) a uprobe on it.
    static func userFunction(file: String, symbol: String?, offset: UInt64?) throws(TraceFSError) -> LatencyHistogram.Function {
        if let symbol {
            let probe = try DynamicEvent.uprobe(system: "check", event: "entry", file: file, symbol: symbol, offset: offset ?? 0)
            // The address is "path:0x<offset>".
            guard let address = probe.address, let colon = address.lastIndex(of: ":"),
                  let resolved = UInt64(address[address.index(colon, offsetBy: 3)...], radix: 16) else {
                throw TraceFSError(.invalidArgument, operation: "find \(symbol) in \(file)", reason: "unexpected probe address")
            }
            return .user(file: String(address[..<colon]), offset: resolved)
        }
        guard let offset else {
            throw TraceFSError(.invalidArgument, operation: "time a function of \(file)", reason: "`symbol:` or `offset:` is needed")
        }
        _ = try DynamicEvent.uprobe(system: "check", event: "entry", file: file, offset: offset)
        return .user(file: file, offset: offset)
    }
}

/// A histogram's bucket layout: which kernel key it reads and which `le` bounds it exports.
public struct Buckets: Sendable, Equatable {
    public enum Layout: Sendable, Equatable {
        /// log2 keys; exported bounds 2^min ... 2^max.
        case exp2(min: Int, max: Int)
        /// `.buckets=size` keys; exported bounds at the upper edge of each bucket from min to max.
        case linear(size: Int, min: Int, max: Int)
    }

    public let layout: Layout
    public let multiplier: Double

    public init(layout: Layout, multiplier: Double = 1) {
        self.layout = layout
        self.multiplier = multiplier
    }

    init(_ histogram: HistogramMetric, path: [ConfigPath], checks: ConfigChecks) throws(ConfigError) {
        let multiplier = histogram.bucketMultiplier ?? 1
        guard multiplier.isFinite, multiplier > 0 else {
            throw checks.fail(path + [.key("bucket_multiplier")], "bucket_multiplier must be a positive number")
        }
        self.multiplier = multiplier
        switch histogram.bucketType {
        case .exp2:
            let min = histogram.bucketMin ?? 0, max = histogram.bucketMax ?? 32
            guard (0...63).contains(min) else { throw checks.fail(path + [.key("bucket_min")], "exp2 bucket_min is 0 to 63") }
            guard (min...63).contains(max) else { throw checks.fail(path + [.key("bucket_max")], "exp2 bucket_max is bucket_min to 63") }
            if histogram.bucketSize != nil { throw checks.fail(path + [.key("bucket_size")], "only linear buckets have a size") }
            layout = .exp2(min: min, max: max)
        case .linear:
            guard let size = histogram.bucketSize else { throw checks.fail(path, "linear buckets need `bucket_size:`") }
            guard (1...Int(Int32.max)).contains(size) else {
                throw checks.fail(path + [.key("bucket_size")], "bucket_size is 1 to \(Int32.max)")
            }
            let min = histogram.bucketMin ?? 0
            guard min >= 0, min % size == 0 else {
                throw checks.fail(path + [.key("bucket_min")], "linear bucket_min is a non-negative multiple of bucket_size")
            }
            guard let max = histogram.bucketMax, max >= min else {
                throw checks.fail(path + [.key("bucket_max")], "linear buckets need bucket_max, at least bucket_min")
            }
            guard (max - min) / size < 1000 else {
                throw checks.fail(path + [.key("bucket_max")], "more than 1000 buckets; use a larger bucket_size")
            }
            layout = .linear(size: size, min: min, max: max)
        }
    }

    /// The layout of a histogram of a checked configuration (whose values ``ConfigLoader`` has checked).
    public init(checked histogram: HistogramMetric) {
        multiplier = histogram.bucketMultiplier ?? 1
        switch histogram.bucketType {
        case .exp2: layout = .exp2(min: histogram.bucketMin ?? 0, max: histogram.bucketMax ?? 32)
        case .linear:
            let size = Swift.max(histogram.bucketSize ?? 1, 1), min = histogram.bucketMin ?? 0
            layout = .linear(size: size, min: min, max: Swift.max(histogram.bucketMax ?? min, min))
        }
    }

    /// The kernel key for `field` that gives these buckets.
    public func key(_ field: String) -> Histogram.Key {
        switch layout {
        case .exp2: Histogram.Key(field, .log2)
        case .linear(let size, _, _): Histogram.Key(field, .buckets(size: size))
        }
    }

    /// The exported upper bounds, in the key's unit (before the multiplier).
    public var bounds: [UInt64] {
        switch layout {
        case .exp2(let min, let max): (min...max).map { UInt64(1) << UInt64($0) }
        case .linear(let size, let min, let max):
            stride(from: min, through: max, by: size).map { UInt64($0 + size - 1) }
        }
    }
}

enum MetricName {
    static func isValid(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 200 else { return false }
        func letter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_" || c == ":" }
        return letter(first) && name.unicodeScalars.allSatisfy { letter($0) || ("0"..."9").contains($0) }
    }

    static func isValidLabel(_ name: String) -> Bool {
        isValid(name) && !name.contains(":") && !name.hasPrefix("__")
    }
}
