#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A process as the kernel knows it for its whole life: its pid and its start time (field 22 of
/// `/proc/<pid>/stat`, clock ticks after boot). A pid is reused; the pair is not.
struct ProcessIdentity: Hashable, Sendable {
    let pid: Int32
    let startTime: UInt64

    static let current: ProcessIdentity = {
        let pid = getpid()
        return ProcessIdentity(pid: pid, startTime: startTime(of: pid) ?? 0)
    }()

    /// Whether this exact process is still running (a zombie counts as gone).
    var isAlive: Bool {
        guard let stat = KernelFile.read("/proc/\(pid)/stat"), let fields = Self.fieldsAfterCommand(stat) else {
            return false
        }
        // fields[0] is the state (field 3); fields[19] the start time (field 22).
        return fields.count > 19 && fields[0] != "Z" && fields[0] != "X" && UInt64(fields[19]) == startTime
    }

    static func startTime(of pid: Int32) -> UInt64? {
        guard let stat = KernelFile.read("/proc/\(pid)/stat"), let fields = fieldsAfterCommand(stat),
              fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// The fields after "pid (command)": the command may itself contain spaces and parentheses.
    private static func fieldsAfterCommand(_ stat: String) -> [Substring]? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }
}
