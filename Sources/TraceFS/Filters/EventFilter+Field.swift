extension EventFilter {
    /// A field named in a filter, compared with a value by the usual operators:
    /// `EventFilter.field("common_pid") == 42`, `EventFilter.field("comm").matches("bash*")`.
    public struct Field: Sendable {
        /// The field's name as the event's format has it, such as `common_pid`.
        public let name: String

        /// `field ~ "glob"`: a string field matches a glob pattern.
        public func matches(_ pattern: String) -> EventFilter {
            .compare(field: name, .matches, .string(pattern))
        }

        /// `field & mask`: some of `mask`'s bits are set.
        public func hasBits(_ mask: UInt64) -> EventFilter {
            .compare(field: name, .bitsSet, .unsignedNumber(mask))
        }

        public static func == (field: Field, value: Value) -> EventFilter { .compare(field: field.name, .equal, value) }
        public static func != (field: Field, value: Value) -> EventFilter { .compare(field: field.name, .notEqual, value) }
        public static func < (field: Field, value: Value) -> EventFilter { .compare(field: field.name, .less, value) }
        public static func <= (field: Field, value: Value) -> EventFilter { .compare(field: field.name, .lessOrEqual, value) }
        public static func > (field: Field, value: Value) -> EventFilter { .compare(field: field.name, .greater, value) }
        public static func >= (field: Field, value: Value) -> EventFilter {
            .compare(field: field.name, .greaterOrEqual, value)
        }
    }
}
