import CTraceFS

extension DynamicEvent {
    /// A set of dynamic event kinds, for listing and destroying events.
    public struct Kinds: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32

        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// The set holding one kind.
        public init(_ kind: Kind) { self.init(rawValue: kind.cType.rawValue) }

        /// Kernel probes: `TRACEFS_DYNEVENT_KPROBE`.
        public static let kprobe = Kinds(.kprobe)
        /// Kernel return probes: `TRACEFS_DYNEVENT_KRETPROBE`.
        public static let kretprobe = Kinds(.kretprobe)
        /// User-space probes: `TRACEFS_DYNEVENT_UPROBE`.
        public static let uprobe = Kinds(.uprobe)
        /// User-space return probes: `TRACEFS_DYNEVENT_URETPROBE`.
        public static let uretprobe = Kinds(.uretprobe)
        /// Event probes: `TRACEFS_DYNEVENT_EPROBE`.
        public static let eprobe = Kinds(.eprobe)
        /// Synthetic events: `TRACEFS_DYNEVENT_SYNTH`.
        public static let synthetic = Kinds(.synthetic)
        /// Every kind: `TRACEFS_DYNEVENT_ALL`.
        public static let all = Kinds(rawValue: ctracefs_dynevent_all())
    }
}
