import CTraceFS

extension DynamicEvent {
    /// The kind of a dynamic event.
    public enum Kind: Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// A kernel probe on a symbol or address (`TRACEFS_DYNEVENT_KPROBE`).
        case kprobe
        /// A kernel return probe (`TRACEFS_DYNEVENT_KRETPROBE`).
        case kretprobe
        /// A user-space probe on a file offset (`TRACEFS_DYNEVENT_UPROBE`).
        case uprobe
        /// A user-space return probe (`TRACEFS_DYNEVENT_URETPROBE`).
        case uretprobe
        /// An event probe attached to another event (`TRACEFS_DYNEVENT_EPROBE`).
        case eprobe
        /// A synthetic event (`TRACEFS_DYNEVENT_SYNTH`).
        case synthetic

        init?(_ type: tracefs_dynevent_type) {
            switch type {
            case TRACEFS_DYNEVENT_KPROBE: self = .kprobe
            case TRACEFS_DYNEVENT_KRETPROBE: self = .kretprobe
            case TRACEFS_DYNEVENT_UPROBE: self = .uprobe
            case TRACEFS_DYNEVENT_URETPROBE: self = .uretprobe
            case TRACEFS_DYNEVENT_EPROBE: self = .eprobe
            case TRACEFS_DYNEVENT_SYNTH: self = .synthetic
            default: return nil
            }
        }

        /// The C enum value.
        var cType: tracefs_dynevent_type {
            switch self {
            case .kprobe: TRACEFS_DYNEVENT_KPROBE
            case .kretprobe: TRACEFS_DYNEVENT_KRETPROBE
            case .uprobe: TRACEFS_DYNEVENT_UPROBE
            case .uretprobe: TRACEFS_DYNEVENT_URETPROBE
            case .eprobe: TRACEFS_DYNEVENT_EPROBE
            case .synthetic: TRACEFS_DYNEVENT_SYNTH
            }
        }

        public var description: String {
            switch self {
            case .kprobe: "kprobe"
            case .kretprobe: "kretprobe"
            case .uprobe: "uprobe"
            case .uretprobe: "uretprobe"
            case .eprobe: "eprobe"
            case .synthetic: "synthetic event"
            }
        }

        /// The kernel feature that this kind needs, as a user would look it up.
        var kernelFeature: String {
            switch self {
            case .kprobe, .kretprobe: "kprobe events (CONFIG_KPROBE_EVENTS)"
            case .uprobe, .uretprobe: "uprobe events (CONFIG_UPROBE_EVENTS)"
            case .eprobe: "event probes (CONFIG_EPROBE_EVENTS)"
            case .synthetic: "synthetic events (CONFIG_SYNTH_EVENTS)"
            }
        }
    }
}
