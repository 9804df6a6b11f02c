import CTraceFS

extension Histogram {
    /// How the kernel groups and shows a key (`enum tracefs_hist_key_type`).
    public enum KeyModifier: Sendable, Hashable {
        /// The value as it is (`TRACEFS_HIST_KEY_NORMAL`).
        case plain
        /// In hexadecimal (`.hex`, `TRACEFS_HIST_KEY_HEX`).
        case hex
        /// An address as the kernel symbol it is in (`.sym`, `TRACEFS_HIST_KEY_SYM`).
        case symbol
        /// An address as symbol+offset/size (`.sym-offset`, `TRACEFS_HIST_KEY_SYM_OFFSET`).
        case symbolOffset
        /// A system call number with its name (`.syscall`, `TRACEFS_HIST_KEY_SYSCALL`).
        case syscall
        /// A pid with its command name (`.execname`, `TRACEFS_HIST_KEY_EXECNAME`); `common_pid` only.
        case execname
        /// Power-of-two buckets (`.log2`, `TRACEFS_HIST_KEY_LOG`).
        case log2
        /// A timestamp in microseconds (`.usecs`, `TRACEFS_HIST_KEY_USECS`).
        case usecs
        /// Linear buckets of `size` (`.buckets=N`, `TRACEFS_HIST_KEY_BUCKETS`).
        case buckets(size: Int)

        var cValue: tracefs_hist_key_type {
            switch self {
            case .plain: TRACEFS_HIST_KEY_NORMAL
            case .hex: TRACEFS_HIST_KEY_HEX
            case .symbol: TRACEFS_HIST_KEY_SYM
            case .symbolOffset: TRACEFS_HIST_KEY_SYM_OFFSET
            case .syscall: TRACEFS_HIST_KEY_SYSCALL
            case .execname: TRACEFS_HIST_KEY_EXECNAME
            case .log2: TRACEFS_HIST_KEY_LOG
            case .usecs: TRACEFS_HIST_KEY_USECS
            case .buckets: TRACEFS_HIST_KEY_BUCKETS
            }
        }

        /// The suffix the trigger gets: ".log2", ".buckets=10".
        var suffix: String {
            switch self {
            case .plain: ""
            case .hex: ".hex"
            case .symbol: ".sym"
            case .symbolOffset: ".sym-offset"
            case .syscall: ".syscall"
            case .execname: ".execname"
            case .log2: ".log2"
            case .usecs: ".usecs"
            case .buckets(let size): ".buckets=\(size)"
            }
        }
    }

    /// A key: the field the kernel groups by, and how.
    public struct Key: Sendable, Hashable {
        /// The field, such as `common_pid`, or `stacktrace`.
        public let field: String
        /// How it is grouped and shown.
        public let modifier: KeyModifier

        /// A key on `field`.
        public init(_ field: String, _ modifier: KeyModifier = .plain) {
            self.field = field
            self.modifier = modifier
        }

        /// The kernel stack at the event (`stacktrace`).
        public static let stackTrace = Key("stacktrace")

        /// "bytes_req.log2".
        var text: String { field + modifier.suffix }
    }

    /// A sort key: a key's field (without its modifier), a value or `hitcount`.
    public struct SortKey: Sendable, Hashable {
        /// "hitcount", a value's field, or a key's field such as "common_pid".
        public let name: String
        /// Largest first.
        public let descending: Bool

        public init(_ name: String, descending: Bool = false) {
            self.name = name
            self.descending = descending
        }

        /// By the number of events.
        public static func hitCount(descending: Bool = true) -> SortKey { SortKey("hitcount", descending: descending) }
    }
}
