import TraceFS

/// Prometheus text exposition format 0.0.4, written family by family.
public struct Exposition: Sendable {
    /// The text so far.
    public private(set) var text = ""

    public init() {}

    /// The content type of the text.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// One label set and its value.
    public struct Sample: Sendable, Equatable {
        public var labels: [(String, String)]
        public var value: UInt64
        public init(labels: [(String, String)], value: UInt64) {
            self.labels = labels
            self.value = value
        }
        public static func == (a: Sample, b: Sample) -> Bool {
            a.value == b.value && a.labels.map { $0.0 } == b.labels.map { $0.0 } && a.labels.map { $0.1 } == b.labels.map { $0.1 }
        }
    }

    /// One label set of a histogram: cumulative bucket counts, the count and the sum.
    public struct HistogramSeries: Sendable {
        public var labels: [(String, String)]
        /// (upper bound, cumulative count), ascending; `+Inf` is added from `count`.
        public var buckets: [(Double, UInt64)]
        public var count: UInt64
        /// The sum of the observed values, when the kernel summed them.
        public var sum: Double?
    }

    /// A counter family.
    public mutating func counter(_ name: String, help: String?, samples: [Sample]) {
        header(name, help: help, type: "counter")
        for sample in samples { line(name, sample.labels, String(sample.value)) }
    }

    /// A histogram family.
    public mutating func histogram(_ name: String, help: String?, series: [HistogramSeries]) {
        header(name, help: help, type: "histogram")
        for one in series {
            for (bound, count) in one.buckets {
                line(name + "_bucket", one.labels + [("le", Self.number(bound))], String(count))
            }
            line(name + "_bucket", one.labels + [("le", "+Inf")], String(one.count))
            if let sum = one.sum { line(name + "_sum", one.labels, Self.number(sum)) }
            line(name + "_count", one.labels, String(one.count))
        }
    }

    /// Text another writer produced (swift-prometheus's registry), appended as it is.
    public mutating func append(_ other: String) {
        text += other
        if !other.isEmpty, !other.hasSuffix("\n") { text += "\n" }
    }

    private mutating func header(_ name: String, help: String?, type: String) {
        // promtool's lint wants HELP on every family.
        text += "# HELP \(name) \(Self.escapeHelp(help ?? "\(name), from the kernel's counts (tracefs-exporter)"))\n"
        text += "# TYPE \(name) \(type)\n"
    }

    private mutating func line(_ name: String, _ labels: [(String, String)], _ value: String) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(Self.escapeLabelValue($0.1))\"" }.joined(separator: ",") + "}"
        }
        text += " " + value + "\n"
    }

    /// A label value with `\`, `"` and newlines escaped, as the format requires.
    public static func escapeLabelValue(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// HELP text with `\` and newlines escaped.
    public static func escapeHelp(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\n", "\r\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// A float as Prometheus reads it (Go's ParseFloat): 1024.0, 1e-06, +Inf.
    public static func number(_ value: Double) -> String {
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value.isNaN { return "NaN" }
        return String(value)
    }
}

/// A label as the exporter applies it to a hist key: the value of one key field, rewritten.
public struct LabelRule: Sendable {
    public let name: String
    public let field: String
    public let modifier: Histogram.KeyModifier
    let staticMap: [String: String]
    let patterns: [String]

    public init(_ label: Label) {
        name = label.name
        let (field, modifier) = ConfigChecks.split(label.field)
        self.field = field
        self.modifier = ConfigChecks.labelModifiers[modifier] ?? .plain
        staticMap = label.staticMap ?? [:]
        patterns = label.regexp ?? []
    }

    /// The kernel key that gives this label.
    public var key: Histogram.Key { Histogram.Key(field, modifier) }

    /// The label's value for a key, or `nil` when `regexp` drops the row.
    public func value(_ key: HistogramKeyValue?) -> String? {
        let raw: String = switch key {
        case .execname(let command, _)?: command
        case .syscall(let name, _)?: name
        case .symbol(_, let name, _)?: name
        case .number(let value)?: String(value)
        case .string(let text)?: text
        case let other?: other.description
        case nil: ""
        }
        if !patterns.isEmpty {
            // Compiled per use: Regex is not Sendable, and the patterns were checked at load.
            guard patterns.contains(where: { pattern in
                (try? Regex(pattern)).map { raw.wholeMatch(of: $0) != nil } ?? false
            }) else { return nil }
        }
        return staticMap[raw] ?? raw
    }
}

/// Metrics from the kernel's hist tables and probe profiles.
public enum KernelMetrics {
    /// One sample per label set: the hit counts of rows that map to the same labels are added
    /// (an execname key has a row per pid, the label only the command).
    public static func counterSamples(_ table: HistogramTable, labels: [LabelRule]) -> [Exposition.Sample] {
        var order: [[String]] = []
        var sums: [[String]: UInt64] = [:]
        rows: for row in table.rows {
            var values: [String] = []
            for label in labels {
                guard let value = label.value(row.key(label.field)) else { continue rows }
                values.append(value)
            }
            if sums[values] == nil { order.append(values) }
            sums[values, default: 0] &+= row.hitCount
        }
        return order.map { values in
            Exposition.Sample(labels: Array(zip(labels.map(\.name), values)), value: sums[values] ?? 0)
        }
    }

    /// One histogram series per label set, from rows keyed by `bucketField` (log2 or linear
    /// buckets) and the labels' fields; `sumField` is the summed value, if the trigger has one.
    public static func histogramSeries(
        _ table: HistogramTable, bucketField: String, buckets: Buckets, labels: [LabelRule], sumField: String?
    ) -> [Exposition.HistogramSeries] {
        let bounds = buckets.bounds
        var order: [[String]] = []
        var counts: [[String]: [UInt64]] = [:]
        var totals: [[String]: UInt64] = [:]
        var sums: [[String]: UInt64] = [:]
        rows: for row in table.rows {
            var values: [String] = []
            for label in labels {
                guard let value = label.value(row.key(label.field)) else { continue rows }
                values.append(value)
            }
            if counts[values] == nil {
                order.append(values)
                counts[values] = Array(repeating: 0, count: bounds.count)
            }
            let upper = row.key(bucketField)?.range?.upperBound ?? UInt64.max
            if let index = bounds.firstIndex(where: { $0 >= upper }) { counts[values]![index] &+= row.hitCount }
            totals[values, default: 0] &+= row.hitCount
            if let sumField, let value = row.value(sumField) { sums[values, default: 0] &+= value }
        }
        return order.map { values in
            var running: UInt64 = 0
            let cumulative = zip(bounds, counts[values] ?? []).map { bound, count in
                running &+= count
                return (Double(bound) * buckets.multiplier, running)
            }
            return Exposition.HistogramSeries(
                labels: Array(zip(labels.map(\.name), values)), buckets: cumulative, count: totals[values] ?? 0,
                sum: sumField.map { _ in Double(sums[values] ?? 0) * buckets.multiplier })
        }
    }
}
