import CTraceFS

/// A trace event's identity and fields, read once from libtraceevent's parsed format.
///
/// It copies what it needs, so it stays valid after the ``EventCatalog`` it came from is gone.
public final class EventFormat: CustomStringConvertible {
    /// The event's system (group), such as `ftrace` or `my_kprobes`.
    public let system: String
    /// The event's name, such as `print`.
    public let name: String
    /// The kernel's numeric id of the event.
    public let id: Int32
    /// The event's own fields, in the kernel's order.
    public let fields: [EventField]
    /// The fields every event has: `common_type`, `common_flags`, `common_preempt_count`,
    /// `common_pid`.
    public let commonFields: [EventField]
    /// Own fields, then common ones, for records to look up by name: a linear scan, which for an
    /// event's handful of short names beats hashing the name on every record.
    @usableFromInline let fieldTable: FieldTable
    /// `common_pid`, which every record is asked for: found once here, not by name per record.
    @usableFromInline let pidField: FieldLayout?

    init(_ event: UnsafeMutablePointer<tep_event>) {
        system = String(cString: event.pointee.system)
        name = String(cString: event.pointee.name)
        id = event.pointee.id
        fields = Self.list(event.pointee.format.fields)
        commonFields = Self.list(event.pointee.format.common_fields)
        fieldTable = FieldTable(fields + commonFields)
        pidField = fieldTable.layout(named: "common_pid")
    }

    deinit {
        fieldTable.deallocate()
    }

    /// The field named `name`, own or common.
    public func field(named name: String) -> EventField? {
        fields.first { $0.name == name } ?? commonFields.first { $0.name == name }
    }

    /// A handle on the field named `name` (own or common), for reading it from many records.
    ///
    /// - Throws: ``TraceFSError`` with `notFound`, naming the event's fields, when it has no such field.
    public func handle(forField name: String) throws(TraceFSError) -> FieldHandle {
        guard let layout = fieldTable.layout(named: name) else {
            throw TraceFSError(.notFound, operation: "look up field '\(name)' of event \(self)",
                               reason: "the event's fields are " + (fields + commonFields).map(\.name).joined(separator: ", "))
        }
        return FieldHandle(name: name, format: self, layout: layout)
    }

    /// ``fieldTable``'s lookup as a call, for the rare paths of inlined accessors.
    @usableFromInline @inline(never)
    func layoutOutOfLine(named name: String) -> FieldLayout? {
        fieldTable.layout(named: name)
    }

    /// "ftrace/print".
    public var description: String { "\(system)/\(name)" }

    private static func list(_ first: UnsafeMutablePointer<tep_format_field>?) -> [EventField] {
        var fields: [EventField] = []
        var field = first
        while let current = field {
            fields.append(EventField(current.pointee))
            field = current.pointee.next
        }
        return fields
    }
}

// Sendable: every property is a constant set in `init`; the field table's memory is written there,
// only read afterwards, and freed in `deinit` when no thread can hold the format any more.
extension EventFormat: @unchecked Sendable {}
