import Foundation
import Testing
import TraceFS
#if canImport(Glibc)
import Glibc
#endif

/// What the kernel under test offers, and what the run demands of it (the main package's
/// `KernelFeatures` pattern): the guest run sets `TRACEFS_REQUIRE_FEATURES`, and there a suite that
/// needs a feature runs, and fails, instead of being skipped when the feature is missing.
enum KernelGate {
    static let capabilities: TracingCapabilities? = try? TracingCapabilities.current()

    static let required: Set<String> = {
        guard let value = getenv("TRACEFS_REQUIRE_FEATURES") else { return [] }
        return Set(String(cString: value).split(separator: ",").map(String.init))
    }()

    /// Each feature by the name `TRACEFS_REQUIRE_FEATURES` uses, and whether the kernel has it.
    static var present: [String: Bool] {
        ["kprobes": capabilities?.kprobeEvents == true, "uprobes": capabilities?.uprobeEvents == true,
         "eprobes": capabilities?.eprobes == true, "synthetic": capabilities?.syntheticEvents == true,
         "histograms": capabilities?.histograms == true]
    }

    /// What the kernel example needs.
    static let needed = ["kprobes", "uprobes", "histograms", "synthetic"]

    /// Root and every needed feature, or a run that requires any of them.
    static var canRun: Bool {
        !required.isDisjoint(with: needed) || (getuid() == 0 && needed.allSatisfy { present[$0] == true })
    }

    /// Inside the QEMU guest (scripts/guest-run sets GUEST_KERNEL), where everything is about ten times slower.
    static var inGuest: Bool { getenv("GUEST_KERNEL") != nil }

    /// Fails (does not skip) for each needed feature the kernel lacks.
    static func requireFeatures(_ features: [String] = needed) throws {
        try #require(getuid() == 0, "the kernel example needs root")
        for feature in features {
            try #require(present[feature] == true, "the run requires \(feature); \(capabilities.map { "\($0)" } ?? "no tracefs") lacks it")
        }
    }
}

@Suite("Kernel features the run requires")
struct KernelRequirementTests {
    @Test("every feature TRACEFS_REQUIRE_FEATURES names is present", .enabled(if: !KernelGate.required.isEmpty, "only where the run requires features"))
    func everyRequiredFeatureIsPresent() throws {
        for feature in KernelGate.required.sorted() {
            #expect(KernelGate.present[feature] == true, "the run requires \(feature), and \(String(describing: KernelGate.capabilities)) lacks it")
        }
    }
}

/// The kernel example (keyed counters, a fetched-value histogram, a latency histogram) as a
/// process, scraped by a real Prometheus. Runs where the kernel has the features (Debian's stock
/// kernel in the QEMU guest); this project's host kernel has no kprobes.
@Suite("Kernel example", .serialized, .enabled(if: KernelGate.canRun, "needs kprobes, hist triggers and synthetic events"))
struct KernelExampleTests {
    /// Brings the loopback interface up: the QEMU guest (no network card) boots with it down.
    static func loopbackUp() throws {
        func up() -> Bool {
            guard let flags = try? String(contentsOfFile: "/sys/class/net/lo/flags", encoding: .utf8),
                  let value = Int(flags.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst(2), radix: 16) else { return false }
            return value & 1 != 0
        }
        if !up() {
            let (status, output) = try Support.run("/usr/sbin/ip", ["link", "set", "lo", "up"])
            try #require(status == 0, "ip link set lo up: \(output)")
        }
        try #require(up(), "the loopback interface is still down")
    }

    /// A shell (static busybox, so no dynamic loader opens anything) run under the command name
    /// `command` (its symlink's name), which opens a file that does not exist `count` times.
    ///
    /// The loop runs in a subshell, a process of its own: a hist trigger keyed by
    /// `common_pid.execname` names a pid's row after the command of its first event, and the
    /// spawned process's first opens (posix_spawn's file actions) happen before its exec, under
    /// the test runner's thread name. (`; exit 0` keeps ash from running a last subshell unforked.)
    static func opens(_ count: Int, command: String, in directory: URL) throws {
        let link = directory.appendingPathComponent(command).path
        if !FileManager.default.fileExists(atPath: link) {
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/bin/busybox")
        }
        let script = "(i=0; while [ $i -lt \(count) ]; do true < /nonexistent-swtf-exporter; i=$((i+1)); done); exit 0"
        let (status, output) = try Support.run(link, ["-c", script], argv0: "sh")
        try #require(status == 0, "\(output)")
    }

    @Test("keyed counters, histograms and latency, scraped by Prometheus, and nothing left after SIGTERM")
    func kernelExample() throws {
        try KernelGate.requireFeatures()
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus"), "needs Prometheus: make deps")
        try #require(FileManager.default.isExecutableFile(atPath: "/bin/busybox"), "needs busybox-static: make deps")
        try Self.loopbackUp()
        let directory = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Under TCG the guest is about ten times slower than the host.
        let patience: Duration = KernelGate.inGuest ? .seconds(120) : .seconds(30)
        let example = Support.packageDirectory.appendingPathComponent("examples/kernel.yaml").path
        let log = directory.appendingPathComponent("exporter.log")
        let exporter = try EndToEndTests.start(config: example, log: log, timeout: patience)
        let pid = exporter.processIdentifier
        var exporterRunning = true
        defer { if exporterRunning { _ = EndToEndTests.terminate(exporter) } }
        let exporterLog = { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        #expect(!Support.kernelObjects(of: pid).isEmpty)

        // A scrape of this configuration takes 1-2 s in the guest: longer than a 1 s timeout.
        let prometheus = try EndToEndTests.startPrometheus(scraping: EndToEndTests.port, every: KernelGate.inGuest ? 5 : 1,
                                                           in: directory)
        defer { _ = EndToEndTests.terminate(prometheus) }

        let calls = 137
        try Self.opens(calls, command: "swtfopens", in: directory)
        for _ in 0..<3 { _ = try Support.run("/bin/ls", ["/"]) }
        _ = try Support.run("/bin/cat", ["/etc/hostname"])

        let (code, text) = try #require(Support.get(port: EndToEndTests.port, path: "/metrics"))
        #expect(code == 200)
        #expect(text.contains("# TYPE opens_total counter"))
        #expect(text.contains("opens_total{comm=\"swtfopens\"} \(calls)\n"), "\(text)")
        #expect(text.contains("malloc_calls_total{comm=\"ls\"}"), "\(text)")
        #expect(!text.contains("malloc_calls_total{comm=\"cat\"}"), "regexp keeps only ls")
        #expect(text.contains("# TYPE malloc_size_bytes histogram"))
        #expect(text.contains("malloc_size_bytes_sum "))
        #expect(text.contains("# TYPE vfs_read_latency_seconds histogram"))
        #expect(text.contains("vfs_read_latency_seconds_bucket{le=\"+Inf\"}"), "\(text)")
        #expect(text.contains("tracefs_exporter_hist_dropped_total{metric=\"opens_total\"} 0"))
        #expect(EndToEndTests.value(of: "tracefs_exporter_scrape_errors_total", in: text) == 0, "\(text)\n\(exporterLog())")
        if Support.hasPromtool {
            let (status, output) = try Support.promtool(text)
            #expect(status == 0, "\(output)")
        }

        // Prometheus' own view: the target is up, the keyed counter is the workload's calls, and
        // a quantile of the latency histogram is a number.
        var up: String?, opens: String?, quantile: String?
        let deadline = ContinuousClock.now + patience
        while ContinuousClock.now < deadline {
            up = EndToEndTests.query("up{job=\"tracefs\"}")
            opens = EndToEndTests.query("opens_total{comm=\"swtfopens\"}")
            quantile = EndToEndTests.query("histogram_quantile(0.9, vfs_read_latency_seconds_bucket)")
            if up == "1", opens == String(calls), let quantile, Double(quantile)?.isFinite == true { break }
            usleep(500_000)
        }
        #expect(up == "1", "\(EndToEndTests.prometheusLog(in: directory))")
        #expect(opens == String(calls))
        let seconds = try #require(quantile.flatMap(Double.init), "histogram_quantile gave \(String(describing: quantile))")
        #expect(seconds.isFinite && seconds > 0 && seconds < 10, "\(seconds)")

        let (exit, took) = EndToEndTests.terminate(exporter)
        exporterRunning = false
        #expect(exit == .code(0), "\(exporterLog())")
        #expect(took < .seconds(5))
        #expect(Support.kernelObjects(of: pid).isEmpty, "\(Support.kernelObjects(of: pid))")
    }
}
