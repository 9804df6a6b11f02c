#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes to tracefs control files by exact path, for what libtracefs 1.6.4 only offers through
/// regular expressions compiled with `REG_ICASE` (`tracefs_event_enable` and friends would also
/// switch `AUDIT/ev` when asked for `audit/ev`).
enum ControlFile {
    /// Writes `text` in one `write`; returns 0, or the errno of the failure.
    static func write(_ path: String, _ text: String) -> Int32 {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return currentErrno() }
        defer { close(descriptor) }
        var bytes = Array(text.utf8)
        while true {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written == bytes.count { return 0 }
            if written < 0 && errno == EINTR { continue }
            if written < 0 { return currentErrno() }
            bytes.removeFirst(written)
        }
    }

    /// The names of the subdirectories of `path` (not `.` and `..`), or `nil` when it cannot be read.
    static func subdirectories(of path: String) -> [String]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            guard entry.pointee.d_type == DT_DIR else { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
