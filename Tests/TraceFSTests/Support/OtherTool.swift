#if canImport(Glibc)
import Glibc
#endif

/// Another tool on the same machine: it writes definitions and switches straight into tracefs,
/// without this package, as `perf probe` or `echo >> dynamic_events` would.
enum OtherTool {
    static var tracingDirectory: String {
        KernelFeatures.capabilities?.tracingDirectory ?? "/sys/kernel/tracing"
    }

    /// Appends `line` to `file` under the tracing directory; returns 0 or the write's errno.
    @discardableResult
    static func write(_ line: String, to file: String = "dynamic_events", append: Bool = true) -> Int32 {
        let descriptor = open(tracingDirectory + "/" + file, O_WRONLY | (append ? O_APPEND : O_TRUNC))
        guard descriptor >= 0 else { return errno }
        defer { close(descriptor) }
        let bytes = Array((line + "\n").utf8)
        return bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) } == bytes.count ? 0 : errno
    }

    /// Removes every probe of `name` ("group/event"), disabling it first in `instances`.
    static func remove(_ name: String, disablingIn instances: [String] = []) {
        for instance in [""] + instances.map({ "instances/\($0)/" }) {
            write("0", to: "\(instance)events/\(name)/enable", append: false)
        }
        write("-:\(name)")
    }

    /// The event's `enable` file in `instance` (the top level when nil): "0" or "1".
    static func enableState(_ name: String, instance: String? = nil) -> String {
        let base = instance.map { "\(tracingDirectory)/instances/\($0)" } ?? tracingDirectory
        return String(readKernelFile("\(base)/events/\(name)/enable").prefix(1))
    }

    static func setEnabled(_ name: String, _ on: Bool, instance: String? = nil) {
        let file = (instance.map { "instances/\($0)/" } ?? "") + "events/\(name)/enable"
        write(on ? "1" : "0", to: file, append: false)
    }
}
