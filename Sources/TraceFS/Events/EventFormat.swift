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
    private let fieldsByName: [String: EventField]

    init(_ event: UnsafeMutablePointer<tep_event>) {
        system = String(cString: event.pointee.system)
        name = String(cString: event.pointee.name)
        id = event.pointee.id
        fields = Self.list(event.pointee.format.fields)
        commonFields = Self.list(event.pointee.format.common_fields)
        var byName: [String: EventField] = [:]
        for field in commonFields + fields { byName[field.name] = field }
        fieldsByName = byName
    }

    /// The field named `name`, own or common.
    public func field(named name: String) -> EventField? {
        fieldsByName[name]
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
