import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Instance names no other test or process uses.
enum TemporaryInstance {
    private static let counter = Counter()

    static func name(_ label: String) -> String {
        "swtest_\(label)_\(getpid())_\(counter.next())"
    }
}

/// The calling thread's kernel pid, which records carry as `common_pid`: the last part of the
/// `/proc/thread-self` link ("1234/task/1236"). (Swift's Glibc module does not export `gettid`.)
func currentThreadID() -> Int32 {
    var buffer = [CChar](repeating: 0, count: 64)
    let length = readlink("/proc/thread-self", &buffer, buffer.count - 1)
    guard length > 0 else { return -1 }
    let text = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return text.split(separator: "/").last.flatMap { Int32($0) } ?? -1
}
