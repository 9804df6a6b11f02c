/// Checks a histogram's keys, values and sort keys against the event's format before anything is
/// written: libtracefs checks none of them, and the kernel refuses them only when the trigger is
/// written.
struct HistogramCheck {
    /// The kernel sorts by at most two keys (TRACING_MAP_SORT_KEYS_MAX).
    static let maximumSortKeys = 2
    /// The kernel's keys: at most TRACING_MAP_KEYS_MAX (3) fields plus a stack trace... it refuses more.
    static let maximumKeys = 3
    /// A linear bucket size the kernel takes (it must be positive; the overlay keeps it in Int32).
    static let bucketSizes = 1...Int(Int32.max)

    let format: EventFormat
    let operation: String

    private func invalid(_ reason: String) -> TraceFSError {
        TraceFSError(.invalidArgument, operation: operation, reason: reason)
    }

    /// Fields a histogram may use that are not in the event's format.
    static let pseudoFields: Set<String> = ["common_timestamp", "common_cpu", "cpu", "stacktrace"]

    private var fieldList: String {
        "its fields are: " + format.fields.map(\.name).joined(separator: ", ")
            + "; also common_pid, common_timestamp, common_cpu and stacktrace"
    }

    private func kind(of name: String, role: String) throws(TraceFSError) -> EventField.Kind {
        try checkName(name, role: role)
        if let field = format.field(named: name) { return field.kind }
        if Self.pseudoFields.contains(name) { return .unsignedInteger }
        throw invalid("event \(format) has no field \(ProbeInput.display(name)) for a histogram \(role); \(fieldList)")
    }

    private func checkName(_ name: String, role: String) throws(TraceFSError) {
        let allowed = !name.isEmpty && name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
        guard allowed else {
            throw invalid("histogram \(role) \(ProbeInput.display(name)) is not a field name (letters, digits and '_'); "
                + "give the modifier with Histogram.KeyModifier, not in the name")
        }
    }

    func keys(_ keys: [Histogram.Key]) throws(TraceFSError) {
        guard !keys.isEmpty else { throw invalid("a histogram needs at least one key") }
        guard keys.filter({ $0.field != "stacktrace" }).count <= Self.maximumKeys else {
            throw invalid("a histogram has at most \(Self.maximumKeys) key fields (plus stacktrace); \(keys.count) given")
        }
        for key in keys {
            let kind = try self.kind(of: key.field, role: "key")
            let isString = kind == .string || kind == .dynamicString
            switch key.modifier {
            case .plain:
                if kind == .array {
                    throw invalid("field '\(key.field)' of \(format) is an array; the kernel keys only by numbers and strings")
                }
            case .execname:
                guard key.field == "common_pid" else {
                    throw invalid("the .execname modifier applies to common_pid only, not '\(key.field)'")
                }
            case .buckets(let size):
                guard Self.bucketSizes.contains(size) else {
                    throw invalid("bucket size \(size) of key '\(key.field)' must be at least 1 (and at most \(Int32.max))")
                }
                fallthrough
            case .hex, .symbol, .symbolOffset, .syscall, .log2, .usecs:
                guard kind == .signedInteger || kind == .unsignedInteger else {
                    throw invalid("the \(key.modifier.suffix) modifier needs a number; field '\(key.field)' of "
                        + "\(format) is \(isString ? "a string" : "an array")")
                }
            }
            if key.field == "stacktrace" && key.modifier != .plain {
                throw invalid("the stack trace key takes no modifier")
            }
        }
        guard Set(keys).count == keys.count else { throw invalid("a key is given twice") }
    }

    func values(_ values: [String]) throws(TraceFSError) {
        for value in values where value != "hitcount" {
            let kind = try self.kind(of: value, role: "value")
            guard kind == .signedInteger || kind == .unsignedInteger, value != "stacktrace" else {
                throw invalid("histogram values are sums of numbers; field '\(value)' of \(format) is not a number")
            }
        }
    }

    func sortKeys(_ sortKeys: [Histogram.SortKey], keys: [Histogram.Key], values: [String]) throws(TraceFSError) {
        guard sortKeys.count <= Self.maximumSortKeys else {
            throw invalid("the kernel sorts by at most \(Self.maximumSortKeys) keys; \(sortKeys.count) given")
        }
        // The kernel names sort keys by field, without the key's modifier ("Invalid sort modifier").
        let names = ["hitcount"] + keys.map(\.field) + values
        for sortKey in sortKeys where !names.contains(sortKey.name) {
            throw invalid("sort key \(ProbeInput.display(sortKey.name)) is none of the histogram's keys or values "
                + "(name keys by their field, without the modifier); use one of: \(names.joined(separator: ", "))")
        }
    }
}
