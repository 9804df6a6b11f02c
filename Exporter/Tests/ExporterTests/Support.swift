import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Helpers shared by the suites: fixtures, processes, a loopback HTTP GET, promtool.
enum Support {
    static func fixture(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"))
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// The package's folder (Exporter/).
    static let packageDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The tracefs-exporter binary, next to the test bundle.
    static var exporter: String {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("tracefs-exporter").path),
              directory.path != "/" {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("tracefs-exporter").path
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tracefs-exporter-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs a command to its end (bounded by `timeout`, then SIGKILL), returning its exit status
    /// (128 + the signal when a signal ended it) and its standard output and error.
    @discardableResult
    static func run(_ path: String, _ arguments: [String], argv0: String? = nil, input: String? = nil,
                    timeout: Duration = .seconds(60)) throws -> (status: Int32, output: String)
    {
        let child = try Child(path, arguments, argv0: argv0, input: input, captureOutput: true)
        let output = child.readOutput(until: ContinuousClock.now + timeout)
        let exit = child.wait(timeout: .zero) ?? child.kill()
        return (exit.status, output)
    }

    /// `promtool check metrics` on `text`.
    static func promtool(_ text: String) throws -> (status: Int32, output: String) {
        try run("/usr/bin/promtool", ["check", "metrics"], input: text, timeout: KernelGate.inGuest ? .seconds(180) : .seconds(60))
    }

    static var hasPromtool: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") }

    /// A GET on 127.0.0.1:`port`, returning status code and body; nil when nothing answers.
    static func get(port: UInt16, path: String, timeout: Int = 5) -> (Int, String)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var time = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var response = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let headerEnd = text.range(of: "\r\n\r\n"),
              let code = Int(text.split(separator: " ").dropFirst().first ?? "") else { return nil }
        var body = String(text[headerEnd.upperBound...])
        if text[..<headerEnd.lowerBound].lowercased().contains("transfer-encoding: chunked") { body = dechunk(body) }
        return (code, body)
    }

    private static func dechunk(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound], radix: 16), size > 0 {
            let start = lineEnd.upperBound
            let bytes = Array(rest[start...].utf8.prefix(size))
            out += String(decoding: bytes, as: UTF8.self)
            rest = rest[rest.utf8.index(start, offsetBy: size)...].dropFirst(2)
        }
        return out
    }

    /// The lines of dynamic_events and the instance names that belong to sessions of process `pid`.
    static func kernelObjects(of pid: Int32) -> [String] {
        let events = (try? String(contentsOfFile: "/sys/kernel/tracing/dynamic_events", encoding: .utf8)) ?? ""
        let instances = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/kernel/tracing/instances")) ?? []
        let mark = "swtf_\(pid)_"
        return events.split(separator: "\n").map(String.init).filter { $0.contains(mark) }
            + instances.filter { $0.hasPrefix(mark) }.map { "instance " + $0 }
    }
}
