#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension TraceFSError {
    /// The kind of a failure. New codes may be added in later versions, so a `switch` over it
    /// needs a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name, as in `TraceFSError.Code.notFound`.
        public let name: String

        private init(_ name: String) { self.name = name }

        public var description: String { name }

        /// Not allowed: run as root, or with CAP_SYS_ADMIN and write access to tracefs.
        public static let permissionDenied = Code("permissionDenied")
        /// The kernel lacks the feature (kprobe events, eprobes, synthetic events, ...).
        public static let unsupported = Code("unsupported")
        /// A symbol, file, event, system or instance does not exist.
        public static let notFound = Code("notFound")
        /// An event or instance with that name already exists.
        public static let alreadyExists = Code("alreadyExists")
        /// The event is in use, for example enabled in an instance; destroy it with `force: true`.
        public static let busy = Code("busy")
        /// A name, symbol, format, offset or path is malformed, or the kernel rejected it.
        public static let invalidArgument = Code("invalidArgument")
        /// The kernel or the library ran out of memory.
        public static let outOfMemory = Code("outOfMemory")
        /// tracefs is not mounted and could not be mounted.
        public static let notMounted = Code("notMounted")
        /// Kernel lockdown forbids it (see `/sys/kernel/security/lockdown`).
        public static let lockedDown = Code("lockedDown")
        /// A record's fields do not match what was asked of them (missing field, wrong type).
        public static let decodingFailed = Code("decodingFailed")
        /// Any other failure; ``TraceFSError/errno`` and ``TraceFSError/kernelMessage`` say more.
        public static let failed = Code("failed")

        /// The code that an errno left by a failed C call stands for.
        static func from(errno value: Int32) -> Code {
            switch value {
            case EPERM, EACCES: .permissionDenied
            case ENOENT, ENOTDIR, ESRCH: .notFound
            case EEXIST: .alreadyExists
            case EBUSY: .busy
            case EINVAL, E2BIG, EILSEQ, ENAMETOOLONG, ERANGE: .invalidArgument
            case ENOMEM, ENOSPC: .outOfMemory
            case ENODEV, EOPNOTSUPP, ENOSYS: .unsupported
            default: .failed
            }
        }
    }
}
