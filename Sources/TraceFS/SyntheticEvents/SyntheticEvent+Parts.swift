extension SyntheticEvent {
    /// An event by system and name, such as `sched`/`sched_waking`.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public let system: String
        public let event: String

        public init(system: String, event: String) {
            self.system = system
            self.event = event
        }

        public var description: String { "\(system)/\(event)" }
    }

    /// A field of the start event and one of the end event whose values must be equal for the two
    /// to pair up (such as the pid in both).
    public struct Match: Sendable, Hashable {
        public let startField: String
        public let endField: String
        /// The synthetic event's field that keeps the matched value; `nil` for none.
        public let name: String?

        public init(start startField: String, end endField: String, as name: String? = nil) {
            self.startField = startField
            self.endField = endField
            self.name = name
        }
    }

    /// A field of the start or end event copied into the synthetic event.
    public struct Selection: Sendable, Hashable {
        public let field: String
        /// The synthetic event's name for it; the field's own name when `nil`.
        public let name: String?

        public init(_ field: String, as name: String? = nil) {
            self.field = field
            self.name = name
        }
    }

    /// A field computed as the end event's value minus the start event's (`TRACEFS_SYNTH_DELTA_END`),
    /// such as the time between them.
    public struct Difference: Sendable, Hashable {
        public let startField: String
        public let endField: String
        public let name: String

        public init(start startField: String, end endField: String, as name: String) {
            self.startField = startField
            self.endField = endField
            self.name = name
        }

        /// The time from start to end in nanoseconds (`common_timestamp`).
        public static func nanoseconds(as name: String) -> Difference {
            Difference(start: "common_timestamp", end: "common_timestamp", as: name)
        }

        /// The time from start to end in microseconds (`common_timestamp.usecs`).
        public static func microseconds(as name: String) -> Difference {
            Difference(start: "common_timestamp.usecs", end: "common_timestamp.usecs", as: name)
        }
    }

    /// When the synthetic event's action runs (`enum tracefs_synth_handler`).
    public enum Handler: Sendable, Hashable {
        /// Each time an end event matches a start event (`onmatch`, `TRACEFS_SYNTH_HANDLE_MATCH`).
        case match
        /// When a field reaches a new maximum (`onmax`, `TRACEFS_SYNTH_HANDLE_MAX`).
        case max(field: String)
        /// When a field changes (`onchange`, `TRACEFS_SYNTH_HANDLE_CHANGE`).
        case change(field: String)
    }

    /// What the handler does.
    public enum Action: Sendable, Hashable {
        /// Generate the synthetic event (`tracefs_synth_trace`).
        case trace
        /// Take a snapshot of the buffer (`tracefs_synth_snapshot`).
        case snapshot
        /// Save fields for the histogram's output (`tracefs_synth_save`).
        case save(fields: [String])
    }
}
