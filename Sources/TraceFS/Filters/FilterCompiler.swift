import CTraceFS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Turns an ``EventFilter`` into the text the kernel reads, for one event: every field and type
/// is checked against the event's format, the text is put together by libtracefs
/// (`tracefs_filter_string_append`) and parsed back by it (`tracefs_filter_string_verify`).
/// Nothing here writes to the kernel.
struct FilterCompiler {
    /// The kernel reads a filter of less than a page (`PAGE_SIZE`) in one write.
    static let maximumLength = 4095
    /// The kernel's longest string operand (MAX_FILTER_STR_VAL is 256 with its NUL).
    static let maximumStringLength = 255

    let event: UnsafeMutablePointer<tep_event>
    let format: EventFormat
    let operation: String

    /// Fields that are not in an event's format but that libtracefs and the kernel know: the
    /// task's command, and the timestamp (which libtracefs accepts for histogram filters; a
    /// kernel that does not know it in event filters refuses it with its own message).
    static func pseudoField(_ name: String) -> EventField.Kind? {
        switch name {
        case "comm", "COMM": .string
        case "common_timestamp", "common_timestamp.usecs": .unsignedInteger
        default: nil
        }
    }

    /// The filter's text, checked.
    func text(of filter: EventFilter) throws(TraceFSError) -> String {
        for (field, comparison, value) in filter.comparisons {
            try check(field: field, comparison, value)
        }
        var text: UnsafeMutablePointer<CChar>?
        defer { free(text) }
        try append(filter, to: &text)
        guard let text else { throw invalid("the filter is empty") }
        let result = String(cString: text)
        guard result.utf8.count <= Self.maximumLength else {
            throw invalid("the filter is \(result.utf8.count) bytes long; the kernel reads at most "
                + "\(Self.maximumLength): use fewer comparisons")
        }
        try verify(result, hasNegativeNumbers: filter.comparisons.contains { if case .number(let n) = $0.value { n < 0 } else { false } })
        return result
    }

    /// Checks one comparison against the format: the field exists, it is a number or a string, and
    /// the value and comparison fit its kind.
    func check(field name: String, _ comparison: EventFilter.Comparison, _ value: EventFilter.Value) throws(TraceFSError) {
        let kind: EventField.Kind
        if let field = format.field(named: name) {
            kind = field.kind
        } else if let pseudo = Self.pseudoField(name) {
            kind = pseudo
        } else {
            throw invalid("event \(format) has no field \(ProbeInput.display(name)); \(fieldList)")
        }
        let isString = kind == .string || kind == .dynamicString
        if kind == .array {
            throw invalid("field '\(name)' of \(format) is an array, which the kernel cannot filter on; \(fieldList)")
        }
        if !isString && !comparison.appliesToNumbers {
            throw invalid("'~' (glob match) applies to string fields; '\(name)' is a number")
        }
        if isString && !value.isString {
            throw invalid("field '\(name)' of \(format) is a string; compare it with a string such as \"text\", not \(value)")
        }
        if !isString && value.isString {
            throw invalid("field '\(name)' of \(format) is a number; compare it with a number, not the string \(value)")
        }
        if isString && !comparison.appliesToStrings {
            throw invalid("string field '\(name)' can only be compared with ==, != or ~ (glob), not \(comparison)")
        }
        if kind == .unsignedInteger, case .number(let number) = value, number < 0 {
            throw invalid("field '\(name)' of \(format) is unsigned; the kernel reads no negative number for it "
                + "(write the value as its unsigned bit pattern with .unsignedNumber)")
        }
        if case .string(let text) = value {
            try checkString(text)
        }
    }

    private func checkString(_ text: String) throws(TraceFSError) {
        if let bad = text.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw invalid("the string \(ProbeInput.display(text)) contains \(EventName.quoted(bad)); "
                + "the kernel's filter strings are one line without control characters")
        }
        if text.contains("\"") && text.contains("'") {
            throw invalid("the string \(ProbeInput.display(text)) holds both kinds of quote; the kernel's filter "
                + "syntax has no escapes, so a string may hold \" or ', not both")
        }
        if text.utf8.count > Self.maximumStringLength {
            throw invalid("the string is \(text.utf8.count) bytes long; the kernel compares at most "
                + "\(Self.maximumStringLength)")
        }
    }

    /// One step of libtracefs's filter builders (`tracefs_filter_string_append`,
    /// `tracefs_hist_append_filter`, `tracefs_synth_append_start_filter`): an operator or a
    /// comparison.
    struct Token {
        let type: tracefs_filter
        var field: String? = nil
        var comparison: tracefs_compare = TRACEFS_COMPARE_EQ
        var value: String? = nil
    }

    /// The filter as builder steps, with parentheses around compound operands and around what `!`
    /// negates.
    static func tokens(of filter: EventFilter) -> [Token] {
        switch filter {
        case .compare(let field, let comparison, let value):
            return [Token(type: TRACEFS_FILTER_COMPARE, field: field, comparison: comparison.cValue, value: value.description)]
        case .and(let left, let right), .or(let left, let right):
            let joint: tracefs_filter
            if case .and = filter { joint = TRACEFS_FILTER_AND } else { joint = TRACEFS_FILTER_OR }
            return operand(left) + [Token(type: joint)] + operand(right)
        case .not(let inner):
            return [Token(type: TRACEFS_FILTER_NOT), Token(type: TRACEFS_FILTER_OPEN_PAREN)] + tokens(of: inner)
                + [Token(type: TRACEFS_FILTER_CLOSE_PAREN)]
        }
    }

    private static func operand(_ filter: EventFilter) -> [Token] {
        switch filter {
        case .and, .or:
            [Token(type: TRACEFS_FILTER_OPEN_PAREN)] + tokens(of: filter) + [Token(type: TRACEFS_FILTER_CLOSE_PAREN)]
        case .compare, .not:
            tokens(of: filter)
        }
    }

    /// Appends the filter's tokens through libtracefs.
    private func append(_ filter: EventFilter, to text: inout UnsafeMutablePointer<CChar>?) throws(TraceFSError) {
        for token in Self.tokens(of: filter) {
            let result = withClearedErrno {
                tracefs_filter_string_append(event, &text, token.type, token.field, token.comparison, token.value)
            }
            guard result == 0 else {
                throw appendFailure(function: "tracefs_filter_string_append", errno: currentErrno(), field: token.field)
            }
        }
    }

    func appendFailure(function: String, errno error: Int32, field: String?) -> TraceFSError {
        TraceFSError(
            error == ENOMEM ? .outOfMemory : .invalidArgument, operation: operation,
            reason: error == ENODEV
                ? "libtracefs does not know field \(ProbeInput.display(field ?? "")) of \(format); \(fieldList)"
                : "libtracefs refused to add \(field.map { "'\($0)'" } ?? "an operator") to the filter",
            function: function, errno: reportableErrno(error))
    }

    /// libtracefs 1.6.4's parser reads no '-' in front of a number, so a filter with a negative
    /// number is not given to it (the kernel reads negative numbers).
    private func verify(_ text: String, hasNegativeNumbers: Bool) throws(TraceFSError) {
        guard !hasNegativeNumbers else { return }
        var message: UnsafeMutablePointer<CChar>?
        defer { free(message) }
        guard withClearedErrno({ tracefs_filter_string_verify(event, text, &message) }) == 0 else {
            let error = currentErrno()
            throw TraceFSError(.invalidArgument, operation: operation, reason: "libtracefs rejected the filter '\(text)'",
                               function: "tracefs_filter_string_verify", errno: reportableErrno(error),
                               kernelMessage: message.map { String(cString: $0) })
        }
    }

    /// "its fields are: ip, buf; every event also has common_pid, ...".
    var fieldList: String {
        let own = format.fields.map(\.name)
        return "its fields are: " + (own.isEmpty ? "(none)" : own.joined(separator: ", "))
            + "; every event also has " + format.commonFields.map(\.name).joined(separator: ", ") + " and comm"
    }

    func invalid(_ reason: String) -> TraceFSError {
        TraceFSError(.invalidArgument, operation: operation, reason: reason)
    }
}

extension EventFilter.Comparison {
    var cValue: tracefs_compare {
        switch self {
        case .equal: TRACEFS_COMPARE_EQ
        case .notEqual: TRACEFS_COMPARE_NE
        case .less: TRACEFS_COMPARE_LT
        case .lessOrEqual: TRACEFS_COMPARE_LE
        case .greater: TRACEFS_COMPARE_GT
        case .greaterOrEqual: TRACEFS_COMPARE_GE
        case .bitsSet: TRACEFS_COMPARE_AND
        case .matches: TRACEFS_COMPARE_RE
        }
    }
}
