import Foundation
import Testing
import TraceFS
#if canImport(Glibc)
import Glibc
#endif

enum KernelGate {
    /// kprobes, hist triggers and synthetic events: Debian's stock kernel (the project's QEMU guest).
    static var canRun: Bool {
        guard getuid() == 0, let capabilities = try? TracingCapabilities.current() else { return false }
        return capabilities.kprobeEvents && capabilities.uprobeEvents && capabilities.histograms && capabilities.syntheticEvents
    }
}

/// The kernel example (keyed counters, a fetched-value histogram, a latency histogram) as a
/// process. Runs where the kernel has the features; the host kernel of CI does not.
@Suite("Kernel example", .serialized, .enabled(if: KernelGate.canRun, "needs kprobes, hist triggers and synthetic events"))
struct KernelExampleTests {
    @Test("labels, histograms and latency from hist triggers, and nothing left after SIGTERM")
    func kernelExample() throws {
        let directory = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // The QEMU guest (no network card) boots with the loopback interface down.
        if let flags = try? String(contentsOfFile: "/sys/class/net/lo/flags", encoding: .utf8),
           let value = Int(flags.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(2), radix: 16), value & 1 == 0 {
            _ = try? Support.run("/usr/sbin/ip", ["link", "set", "lo", "up"])
        }
        let example = Support.packageDirectory.appendingPathComponent("examples/kernel.yaml").path
        let exporter = try EndToEndTests.start(config: example, log: directory.appendingPathComponent("exporter.log"))
        let pid = exporter.processIdentifier
        for _ in 0..<3 { _ = try Support.run("/bin/ls", ["/"]) }
        _ = try Support.run("/bin/cat", ["/etc/hostname"])
        let (code, text) = try #require(Support.get(port: EndToEndTests.port, path: "/metrics"))
        #expect(code == 200)
        #expect(text.contains("# TYPE opens_total counter"))
        #expect(text.contains("opens_total{comm=\"ls\"}"), "\(text)")
        #expect(text.contains("malloc_calls_total{comm=\"ls\"}"), "\(text)")
        #expect(!text.contains("malloc_calls_total{comm=\"cat\"}"), "regexp keeps only ls")
        #expect(text.contains("# TYPE malloc_size_bytes histogram"))
        #expect(text.contains("malloc_size_bytes_sum "))
        #expect(text.contains("# TYPE vfs_read_latency_seconds histogram"))
        #expect(text.contains("vfs_read_latency_seconds_bucket{le=\"+Inf\"}"), "\(text)")
        #expect(text.contains("tracefs_exporter_hist_dropped_total{metric=\"opens_total\"} 0"))
        #expect(EndToEndTests.value(of: "tracefs_exporter_scrape_errors_total", in: text) == 0, "\(text)")
        if Support.hasPromtool {
            let (status, output) = try Support.promtool(text)
            #expect(status == 0, "\(output)")
        }
        let (status, took) = EndToEndTests.terminate(exporter)
        #expect(status == 0, "\((try? String(contentsOf: directory.appendingPathComponent("exporter.log"), encoding: .utf8)) ?? "")")
        #expect(took < .seconds(5))
        #expect(Support.kernelObjects(of: pid).isEmpty, "\(Support.kernelObjects(of: pid))")
    }
}
