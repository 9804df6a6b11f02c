/// Where a field's bytes are and how to read them: the part of an ``EventField`` that reading a
/// record needs. Plain values only, so that handing it around per record costs no reference
/// counting.
@usableFromInline
struct FieldLayout: Sendable, Hashable {
    /// Where the field starts in the record's data.
    @usableFromInline let offset: Int
    /// Its size in bytes (0 for `char[]` running to the end; 4 for a `__data_loc` word).
    @usableFromInline let size: Int
    @usableFromInline let kind: EventField.Kind
    /// Whether the field is a `__data_loc` / `__rel_loc` word pointing at the data.
    @usableFromInline let isDynamic: Bool
    /// Whether that word's offset is relative to the end of the field (`__rel_loc`) rather than
    /// to the start of the record (`__data_loc`).
    @usableFromInline let isRelative: Bool

    @inlinable
    var isInteger: Bool { kind == .signedInteger || kind == .unsignedInteger }
}
