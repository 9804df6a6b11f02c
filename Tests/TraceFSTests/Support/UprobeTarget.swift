#if canImport(Glibc)
import Glibc
#endif

/// A binary to put uprobes on: it exists on every Debian machine and in the guest (which sees the
/// host's root).
enum UprobeTarget {
    static let path = "/bin/true"

    static var size: UInt64 {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_size) : 0
    }

    /// An offset inside the file (probes are only inserted when enabled and the file runs).
    static let offset: UInt64 = 0x1000
}
