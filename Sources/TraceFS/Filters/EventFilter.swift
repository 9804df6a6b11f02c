/// A condition on an event's fields that the kernel evaluates before it records the event (or
/// before a histogram counts it): comparisons joined with `&&`, `||` and `!`.
///
/// Build one from ``field(_:)`` with Swift's operators; parentheses follow from how the value is
/// built:
///
/// ```swift
/// let opens = EventFilter.field("filename").matches("/etc/*")
///     && !(EventFilter.field("flags") == 0)
/// let mine = opens.restricted(toPIDs: [1234])
/// print(mine)   // (filename~"/etc/*"&&!(flags == 0))&&common_pid == 1234
/// ```
///
/// Nothing is checked when the value is built; applying it (``Instance/setFilter(_:system:event:catalog:)``)
/// checks every field and type against the event's format first.
public indirect enum EventFilter: Sendable, Hashable, CustomStringConvertible {
    /// `field <comparison> value`.
    case compare(field: String, Comparison, Value)
    /// Both conditions hold (`&&`).
    case and(EventFilter, EventFilter)
    /// Either condition holds (`||`).
    case or(EventFilter, EventFilter)
    /// The condition does not hold (`!`).
    case not(EventFilter)

    /// How a field is compared with a value (`enum tracefs_compare`).
    public enum Comparison: Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// `==` (`TRACEFS_COMPARE_EQ`), numbers and strings.
        case equal
        /// `!=` (`TRACEFS_COMPARE_NE`), numbers and strings.
        case notEqual
        /// `<` (`TRACEFS_COMPARE_LT`), numbers only.
        case less
        /// `<=` (`TRACEFS_COMPARE_LE`), numbers only.
        case lessOrEqual
        /// `>` (`TRACEFS_COMPARE_GT`), numbers only.
        case greater
        /// `>=` (`TRACEFS_COMPARE_GE`), numbers only.
        case greaterOrEqual
        /// `&`: some of the value's bits are set (`TRACEFS_COMPARE_AND`), numbers only.
        case bitsSet
        /// `~`: the string matches a glob (`*`, `?`, `[...]`) (`TRACEFS_COMPARE_RE`), strings only.
        case matches

        public var description: String {
            switch self {
            case .equal: "=="
            case .notEqual: "!="
            case .less: "<"
            case .lessOrEqual: "<="
            case .greater: ">"
            case .greaterOrEqual: ">="
            case .bitsSet: "&"
            case .matches: "~"
            }
        }

        /// Whether strings may be compared this way (the kernel allows `==`, `!=` and `~`).
        var appliesToStrings: Bool { self == .equal || self == .notEqual || self == .matches }
        /// Whether numbers may be compared this way (all but `~`).
        var appliesToNumbers: Bool { self != .matches }
    }

    /// What a field is compared with.
    public enum Value: Sendable, Hashable, CustomStringConvertible, ExpressibleByIntegerLiteral,
        ExpressibleByStringLiteral {
        /// A signed number.
        case number(Int64)
        /// An unsigned number too large for `Int64` (addresses, masks).
        case unsignedNumber(UInt64)
        /// A string, or a glob pattern with ``Comparison/matches``.
        case string(String)

        public init(integerLiteral value: Int64) { self = .number(value) }
        public init(stringLiteral value: String) { self = .string(value) }

        /// The value as the kernel's filter syntax writes it: decimal numbers, quoted strings
        /// (the kernel has no escapes: a string holding `"` is put in single quotes).
        public var description: String {
            switch self {
            case .number(let value): String(value)
            case .unsignedNumber(let value): String(value)
            case .string(let text): text.contains("\"") ? "'\(text)'" : "\"\(text)\""
            }
        }

        var isString: Bool {
            if case .string = self { return true }
            return false
        }
    }

    /// A field of the event, to compare with the operators of ``Field``.
    public static func field(_ name: String) -> Field { Field(name: name) }

    /// Records of the process (thread) `pid`: `common_pid == pid`.
    public static func pid(_ pid: Int32) -> EventFilter {
        .compare(field: "common_pid", .equal, .number(Int64(pid)))
    }

    /// This filter, and only for the processes (threads) in `pids`:
    /// `(self) && (common_pid == a || common_pid == b ...)`.
    public func restricted(toPIDs pids: [Int32]) -> EventFilter {
        guard let first = pids.first else { return self }
        let anyPID = pids.dropFirst().reduce(EventFilter.pid(first)) { .or($0, .pid($1)) }
        return .and(self, anyPID)
    }

    /// The filter in the kernel's syntax, with parentheses around every compound operand, spaced
    /// as libtracefs spaces it (`a == 1&&b~"x*"`). What is written to the kernel is built by libtracefs from the same tree
    /// (`tracefs_filter_string_append`) and is the same text.
    public var description: String {
        switch self {
        case .compare(let field, let comparison, let value):
            // libtracefs writes "~" without spaces, every other operator with one on each side.
            comparison == .matches ? "\(field)~\(value)" : "\(field) \(comparison) \(value)"
        case .and(let left, let right):
            "\(left.operand)&&\(right.operand)"
        case .or(let left, let right):
            "\(left.operand)||\(right.operand)"
        case .not(let inner):
            "!(\(inner))"
        }
    }

    /// The text of this filter as an operand of `&&`, `||`: compound filters in parentheses.
    private var operand: String {
        switch self {
        case .and, .or: "(\(self))"
        case .compare, .not: description
        }
    }

    /// The comparisons in the filter, left to right.
    var comparisons: [(field: String, comparison: Comparison, value: Value)] {
        switch self {
        case .compare(let field, let comparison, let value): [(field, comparison, value)]
        case .and(let left, let right), .or(let left, let right): left.comparisons + right.comparisons
        case .not(let inner): inner.comparisons
        }
    }

    /// Both conditions hold.
    public static func && (left: EventFilter, right: EventFilter) -> EventFilter { .and(left, right) }
    /// Either condition holds.
    public static func || (left: EventFilter, right: EventFilter) -> EventFilter { .or(left, right) }
    /// The condition does not hold.
    public static prefix func ! (filter: EventFilter) -> EventFilter { .not(filter) }
}
