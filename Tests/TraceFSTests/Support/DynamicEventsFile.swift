import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// The kernel's `dynamic_events` as text, read directly (not through the code under test), to
/// prove what a call did or did not write.
enum DynamicEventsFile {
    static var path: String {
        (KernelFeatures.capabilities?.tracingDirectory ?? "/sys/kernel/tracing") + "/dynamic_events"
    }

    static func lines() -> [String] {
        readKernelFile(path).split(separator: "\n").map(String.init)
    }

    /// The lines that define events of `group`.
    static func lines(ofGroup group: String) -> [String] {
        lines().filter { $0.contains(":\(group)/") }
    }
}

/// A kernel pseudo file's text ("" when it cannot be read).
func readKernelFile(_ path: String) -> String {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { return "" }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0 else { break }
        bytes += chunk[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
