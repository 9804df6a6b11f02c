/// A histogram as the kernel shows it in an event's `hist` file: the trigger it belongs to, its
/// rows, and its totals.
///
/// ```swift
/// let table = try HistogramTable.parse("""
///     # event histogram
///     #
///     # trigger info: hist:keys=common_pid.execname:vals=hitcount:sort=hitcount:size=2048 [active]
///     #
///
///     { common_pid: cat             [       116] } hitcount:          3
///
///     Totals:
///         Hits: 3
///         Entries: 1
///         Dropped: 0
///     """)
/// print(table.rows[0].key("common_pid") ?? .number(0))   // cat [116]
/// ```
public struct HistogramTable: Sendable, Hashable {
    /// The trigger as the kernel lists it, such as `hist:keys=pid:vals=hitcount:sort=hitcount:size=2048`.
    public let trigger: String
    /// The trigger's keys, in order, with their modifiers.
    public let keys: [HistogramKeySpec]
    /// Whether the histogram is paused.
    public let isPaused: Bool
    /// The rows, in the kernel's (sorted) order.
    public let rows: [HistogramRow]
    /// Hits, entries and drops.
    public let totals: HistogramTotals

    /// Parses every histogram in the text of a `hist` file (an event may have several triggers).
    ///
    /// - Parameters:
    ///   - text: The whole text of a `hist` file, as the kernel printed it.
    ///   - stringFields: Fields known to be strings, so that a string key made only of digits is
    ///     not taken for a number.
    /// - Throws: ``TraceFSError`` with `decodingFailed` naming the line that does not fit.
    public static func parseAll(_ text: String, stringFields: Set<String> = []) throws(TraceFSError) -> [HistogramTable] {
        var parser = HistogramParser(lines: text.split(separator: "\n", omittingEmptySubsequences: false),
                                     stringFields: stringFields)
        return try parser.tables()
    }

    /// Parses the one histogram of `text`.
    ///
    /// - Throws: ``TraceFSError`` with `decodingFailed` when there is not exactly one.
    public static func parse(_ text: String, stringFields: Set<String> = []) throws(TraceFSError) -> HistogramTable {
        let tables = try parseAll(text, stringFields: stringFields)
        guard tables.count == 1 else {
            throw TraceFSError(.decodingFailed, operation: "parse a histogram",
                               reason: "the text holds \(tables.count) histograms; use parseAll(_:)")
        }
        return tables[0]
    }

    /// The rows' differences from `earlier`: for each row, its values minus those of the row with
    /// the same keys in `earlier` (rows that did not change are left out), and totals likewise.
    public func difference(since earlier: HistogramTable) -> HistogramTable {
        var previous: [[HistogramKey]: HistogramRow] = [:]
        for row in earlier.rows { previous[row.keys] = row }
        let rows: [HistogramRow] = rows.compactMap { row in
            guard let old = previous[row.keys] else { return row }
            let values = row.values.map { value in
                HistogramValue(name: value.name, value: value.value &- (old.value(value.name) ?? 0))
            }
            return values.allSatisfy({ $0.value == 0 }) ? nil : HistogramRow(keys: row.keys, values: values)
        }
        return HistogramTable(
            trigger: trigger, keys: keys, isPaused: isPaused, rows: rows,
            totals: HistogramTotals(hits: totals.hits &- earlier.totals.hits,
                                    entries: UInt64(rows.count),
                                    dropped: totals.dropped &- earlier.totals.dropped))
    }
}

/// A key of a histogram trigger: the field and its modifier, as in `bytes_req.buckets=100`.
public struct HistogramKeySpec: Sendable, Hashable {
    /// The field, such as `bytes_req` (or `stacktrace`).
    public let field: String
    /// The modifier, such as `log2` or `buckets`; `nil` for none.
    public let modifier: String?
    /// The bucket size of `buckets=N`.
    public let bucketSize: Int?

    /// Parses "field[.modifier[=N]]".
    init(_ text: Substring) {
        guard let dot = text.firstIndex(of: ".") else {
            field = String(text)
            modifier = nil
            bucketSize = nil
            return
        }
        field = String(text[..<dot])
        let rest = text[text.index(after: dot)...]
        if let equals = rest.firstIndex(of: "=") {
            modifier = String(rest[..<equals])
            bucketSize = Int(rest[rest.index(after: equals)...])
        } else {
            modifier = String(rest)
            bucketSize = nil
        }
    }
}

extension HistogramTable {
    /// The spec of key `field` with `modifier`, as a trigger would list it.
    public static func keySpec(field: String, modifier: String?, bucketSize: Int? = nil) -> HistogramKeySpec {
        HistogramKeySpec(Substring(field + (modifier.map { ".\($0)" } ?? "") + (bucketSize.map { "=\($0)" } ?? "")))
    }
}
