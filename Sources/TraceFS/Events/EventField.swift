import CTraceFS

/// One field of a trace event's format, as the kernel's `format` file describes it.
public struct EventField: Sendable, Hashable, CustomStringConvertible {
    /// How a field's bytes are to be read.
    public enum Kind: Sendable, Hashable {
        /// A signed integer of 1, 2, 4 or 8 bytes.
        case signedInteger
        /// An unsigned integer of 1, 2, 4 or 8 bytes (pointers and longs included).
        case unsignedInteger
        /// A NUL-terminated string stored in the record: a fixed `char[N]`, or `char[]` that
        /// runs to the end of the record (`ftrace/print`'s `buf`).
        case string
        /// A string stored elsewhere in the record, found through a `__data_loc` or `__rel_loc`
        /// word (kprobe `string` and `ustring` fetch arguments, `__string` in trace events).
        case dynamicString
        /// An array of bytes or numbers, fixed or dynamic.
        case array
    }

    /// The field's name, such as `buf`.
    public let name: String
    /// Its C type as the kernel prints it, such as `unsigned long` or `__data_loc char[]`.
    public let type: String
    /// Where it starts in the record's data.
    public var offset: Int { layout.offset }
    /// Its size in bytes (0 for `char[]` running to the end; 4 for a `__data_loc` word).
    public var size: Int { layout.size }
    /// How to read it.
    public var kind: Kind { layout.kind }
    /// What reading a record's copy of the field needs.
    @usableFromInline let layout: FieldLayout

    init(_ field: tep_format_field) {
        name = String(cString: field.name)
        type = String(cString: field.type)
        let flags = field.flags
        let has = { (flag: tep_format_flags) in flags & UInt(flag.rawValue) != 0 }
        let kind: Kind
        if has(TEP_FIELD_IS_DYNAMIC) {
            kind = has(TEP_FIELD_IS_STRING) || type.contains("char") ? .dynamicString : .array
        } else if has(TEP_FIELD_IS_ARRAY) {
            kind = has(TEP_FIELD_IS_STRING) || type.hasPrefix("char ") ? .string : .array
        } else if has(TEP_FIELD_IS_SIGNED) {
            kind = .signedInteger
        } else {
            kind = .unsignedInteger
        }
        layout = FieldLayout(offset: Int(field.offset), size: Int(field.size), kind: kind,
                             isDynamic: has(TEP_FIELD_IS_DYNAMIC), isRelative: has(TEP_FIELD_IS_RELATIVE))
    }

    /// "unsigned long ip (offset 8, 8 bytes)".
    public var description: String {
        "\(type) \(name) (offset \(offset), \(size) bytes)"
    }
}
