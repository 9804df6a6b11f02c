#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A process as its own PID and time namespaces see it: its pid and its start time (field 22 of
/// `/proc/<pid>/stat`, clock ticks after boot). Within those namespaces a pid is reused, the pair
/// is not, which makes it a unique part of a session's names. It is not proof of life across
/// namespaces: that is ``SessionLock``'s job.
struct ProcessIdentity: Hashable, Sendable {
    let pid: Int32
    let startTime: UInt64

    /// The calling process, read anew on every call: a value cached in a `static let` would
    /// survive `fork()` and give the child its parent's names.
    static var current: ProcessIdentity {
        let pid = getpid()
        return ProcessIdentity(pid: pid, startTime: startTime(of: pid) ?? 0)
    }

    static func startTime(of pid: Int32) -> UInt64? {
        guard let stat = KernelFile.read("/proc/\(pid)/stat") else { return nil }
        let fields = fieldsAfterCommand(Array(stat.utf8))
        // fields[0] is the state (field 3); fields[19] the start time (field 22).
        guard fields.count > 19 else { return nil }
        return UInt64(String(decoding: fields[19], as: UTF8.self))
    }

    /// The fields after "pid (command)", split at spaces. The command may itself contain spaces
    /// and parentheses, so the last `)` ends it; it is found in the bytes, because as `Character`s
    /// a `)` after a prepended mark (such as U+0600) would merge into one grapheme and be missed.
    static func fieldsAfterCommand(_ stat: [UInt8]) -> [ArraySlice<UInt8>] {
        guard let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return [] }
        return stat[(close + 1)...].split(separator: UInt8(ascii: " "))
    }
}
