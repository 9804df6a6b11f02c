/// A field of one event, looked up by name once, for reading records in a hot loop.
///
/// The record accessors that take a field's name (`record.string("buf")`) search the event's fields
/// on every call: on a 1,000,000-record read of `ftrace/print` that search was about 76
/// instructions per record, more than the page walk that found the record. A handle carries the
/// field's place in its event, so that on a record of that event an accessor reads the bytes at
/// once. On a record of another event (a read of several events) it is looked up by ``name`` in that
/// event's fields, just as the name would be.
///
/// ```swift
/// func totalMessageLength(of instance: Instance, using catalog: EventCatalog) throws -> Int {
///     let buf = try catalog.event(system: "ftrace", name: "print").handle(forField: "buf")
///     var total = 0
///     try instance.readRecords(using: catalog) { record in
///         total += record.withUnsafeBytes(of: buf) { $0.count } ?? 0
///         return .continue
///     }
///     return total
/// }
/// ```
///
/// Sendable: a name, a layout of plain values, and an ``EventFormat``, which never changes.
public struct FieldHandle: Sendable, CustomStringConvertible {
    /// The field's name.
    public let name: String
    /// The event whose field this is; holding it keeps its identity unique while the handle lives.
    public let format: EventFormat
    @usableFromInline let layout: FieldLayout

    init(name: String, format: EventFormat, layout: FieldLayout) {
        self.name = name
        self.format = format
        self.layout = layout
    }

    /// "ftrace/print.buf".
    public var description: String { "\(format).\(name)" }
}
