import CTraceFS

/// A trace event's identity and fields, read once from libtraceevent's parsed format.
///
/// It copies what it needs, so it stays valid after the ``EventCatalog`` it came from is gone.
public final class EventFormat: Sendable, CustomStringConvertible {
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
    /// Own fields, then common ones: looked up by a linear scan, which for an event's handful of
    /// short names beats hashing the name on every record.
    @usableFromInline let searchOrder: [EventField]
    /// `common_pid`, which every record is asked for: found once here, not by name per record.
    let pidField: EventField?

    init(_ event: UnsafeMutablePointer<tep_event>) {
        system = String(cString: event.pointee.system)
        name = String(cString: event.pointee.name)
        id = event.pointee.id
        fields = Self.list(event.pointee.format.fields)
        commonFields = Self.list(event.pointee.format.common_fields)
        searchOrder = fields + commonFields
        pidField = commonFields.first { $0.name == "common_pid" }
    }

    /// The field named `name`, own or common.
    @inlinable
    public func field(named name: String) -> EventField? {
        var index = 0
        while index < searchOrder.count {
            if searchOrder[index].name == name { return searchOrder[index] }
            index += 1
        }
        return nil
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
