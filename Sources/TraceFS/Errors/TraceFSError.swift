#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The one error that every throwing call of this package throws.
///
/// It says what was attempted, on what, why it failed and, where the kernel or libtracefs
/// explained the failure, their own words. Switch on ``code``; show ``description`` to people.
///
/// Every call throws it as a typed error (`throws(TraceFSError)`), so a `catch` needs no cast:
///
/// ```swift
/// let probe = try DynamicEvent.kprobe(system: "myapp", event: "open", address: "do_sys_openat2")
/// do {
///     try probe.create()
/// } catch where error.code == .unsupported {
///     print(error)   // "create kprobe myapp/open on do_sys_openat2: this kernel has no kprobe events (CONFIG_KPROBE_EVENTS) ..."
/// }
/// ```
public struct TraceFSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public let code: Code
    /// What was attempted, on what: "create uprobe uprobes/malloc on /usr/lib/libc.so.6:0x1234".
    public let operation: String
    /// The C function that failed, for example `tracefs_dynevent_create`; `nil` when the overlay
    /// refused the request before calling into C.
    public let function: String?
    /// The `errno` the failing C call left, read right after it returned; `nil` when none applies.
    public let errno: Int32?
    /// The kernel's own explanation (its `error_log` entry for exactly this request) or
    /// libtracefs's, when there is one.
    public let kernelMessage: String?
    /// Why it failed and what to do about it, in words a user can act on.
    public let reason: String

    /// Creates an error. Library users rarely need this; it is public so that code layered on
    /// this package can report its own failures the same way.
    public init(
        _ code: Code,
        operation: String,
        reason: String,
        function: String? = nil,
        errno: Int32? = nil,
        kernelMessage: String? = nil
    ) {
        self.code = code
        self.operation = operation
        self.reason = reason
        self.function = function
        self.errno = errno
        self.kernelMessage = kernelMessage
    }

    /// One sentence: what was attempted, why it failed, what to do; then the C call, its errno
    /// and the kernel's words when there are any.
    public var description: String {
        var text = "\(operation): \(reason)"
        var details: [String] = []
        if let function {
            if let errno, errno != 0 {
                details.append("\(function) failed with \(Self.errnoName(errno)) (\(Self.errnoText(errno)))")
            } else {
                details.append("\(function) failed")
            }
        }
        if let kernelMessage, !kernelMessage.isEmpty {
            details.append("kernel says: \(kernelMessage)")
        }
        if !details.isEmpty {
            text += " [" + details.joined(separator: "; ") + "]"
        }
        return text
    }

    static func errnoText(_ value: Int32) -> String {
        guard let text = strerror(value) else { return "errno \(value)" }
        return String(cString: text)
    }

    static func errnoName(_ value: Int32) -> String {
        switch value {
        case EPERM: "EPERM"
        case ENOENT: "ENOENT"
        case EINTR: "EINTR"
        case EIO: "EIO"
        case E2BIG: "E2BIG"
        case ENOMEM: "ENOMEM"
        case EACCES: "EACCES"
        case EBUSY: "EBUSY"
        case EEXIST: "EEXIST"
        case ENODEV: "ENODEV"
        case ENOTDIR: "ENOTDIR"
        case EINVAL: "EINVAL"
        case ENOSPC: "ENOSPC"
        case EROFS: "EROFS"
        case ENAMETOOLONG: "ENAMETOOLONG"
        case EOPNOTSUPP: "EOPNOTSUPP"
        case EILSEQ: "EILSEQ"
        default: "errno \(value)"
        }
    }
}
