/// An event's fields in lookup order (own fields, then common ones), in memory that their
/// ``EventFormat`` allocates once and frees in its `deinit`.
///
/// Records look fields up by name on every record. Through this table that is a pointer walk that
/// retains nothing, where an `[EventField]` would retain and release each copied field's strings.
/// No record outlives the table: a ``Record`` lives inside a reading callback while the catalog
/// holds its format, and a ``TraceRecord`` holds its batch, whose catalog holds the format.
@usableFromInline
struct FieldTable {
    @usableFromInline
    struct Entry {
        @usableFromInline let name: String
        /// The name's UTF-8 length, compared first so that most names are passed over without a
        /// string comparison.
        @usableFromInline let nameLength: Int
        @usableFromInline let layout: FieldLayout
    }

    @usableFromInline let entries: UnsafeMutableBufferPointer<Entry>

    init(_ fields: [EventField]) {
        entries = .allocate(capacity: fields.count)
        _ = entries.initialize(from: fields.lazy.map { Entry(name: $0.name, nameLength: $0.name.utf8.count, layout: $0.layout) })
    }

    /// Frees the table; called once, by the format's `deinit`.
    func deallocate() {
        _ = entries.deinitialize()
        entries.deallocate()
    }

    /// The layout of the field named `name`, own or common.
    @inlinable
    func layout(named name: String) -> FieldLayout? {
        let length = name.utf8.count
        var index = 0
        while index < entries.count {
            if entries[index].nameLength == length && entries[index].name == name { return entries[index].layout }
            index += 1
        }
        return nil
    }
}
