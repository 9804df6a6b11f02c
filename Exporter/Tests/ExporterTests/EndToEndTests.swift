import Foundation
import Synchronization
import Testing
import TraceFS
#if canImport(Glibc)
import Glibc
#endif

/// The host's suite: it compiles a C workload, which under TCG takes minutes, so the guest runs
/// the kernel example instead.
enum EndToEndGate {
    static var canRun: Bool {
        !KernelGate.inGuest && getuid() == 0 && ((try? TracingCapabilities.current().uprobeEvents) ?? false)
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/cc")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus")
    }
}

/// The exporter as a process on this machine's kernel: uprobes, a scrape, a real Prometheus,
/// SIGTERM and SIGKILL. Loopback only.
@Suite("End to end", .serialized,
       .enabled(if: EndToEndGate.canRun, "on the host only (it compiles a C workload); needs root, uprobe events, cc and Prometheus"))
struct EndToEndTests {
    static let port: UInt16 = 19435
    static let prometheusPort: UInt16 = 19090

    /// A program that calls `tracefs_exporter_tick` as often as its argument says.
    static func workload(in directory: URL) throws -> String {
        let source = directory.appendingPathComponent("workload.c")
        try """
            #include <stdlib.h>
            __attribute__((noinline)) int tracefs_exporter_tick(int x) { __asm__ volatile(""); return x + 1; }
            int main(int argc, char **argv) {
                int n = argc > 1 ? atoi(argv[1]) : 0, s = 0;
                for (int i = 0; i < n; i++) s = tracefs_exporter_tick(s);
                return s == n ? 0 : 1;
            }
            """.write(to: source, atomically: true, encoding: .utf8)
        let binary = directory.appendingPathComponent("workload").path
        let (status, output) = try Support.run("/usr/bin/cc", ["-O1", "-o", binary, source.path])
        try #require(status == 0, "cc: \(output)")
        return binary
    }

    static func config(workload: String, in directory: URL) throws -> String {
        let file = directory.appendingPathComponent("ticks.yaml")
        try """
            probes:
              - name: tick
                type: uprobe
                file: \(workload)
                symbol: tracefs_exporter_tick
            metrics:
              counters:
                - name: workload_ticks_total
                  help: Calls of tracefs_exporter_tick
                  probe: tick
            """.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// Starts the exporter and waits until it answers on /metrics.
    static func start(config: String, log: URL, port: UInt16 = port, timeout: Duration = .seconds(30)) throws -> Child {
        let process = try Child(Support.exporter, ["--config", config, "--listen", "127.0.0.1:\(port)"], log: log.path)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, process.isRunning {
            if let (code, _) = Support.get(port: port, path: "/metrics", timeout: 2), code == 200 { return process }
            usleep(100_000)
        }
        let ended = process.poll()
        if ended == nil { process.kill() }
        throw ExporterDidNotStart(log: (try? String(contentsOf: log, encoding: .utf8)) ?? "", exit: ended, timeout: timeout)
    }

    struct ExporterDidNotStart: Error, CustomStringConvertible {
        let log: String
        let exit: Exit?
        let timeout: Duration
        var description: String {
            "the exporter did not answer within \(timeout) (\(exit.map { "\($0)" } ?? "still running, killed")):\n\(log)"
        }
    }

    /// SIGTERM, then how it ended and how long that took (SIGKILL after 10 s).
    static func terminate(_ process: Child) -> (Exit, Duration) {
        let start = ContinuousClock.now
        process.send(SIGTERM)
        let exit = process.wait(timeout: .seconds(10))
        let took = ContinuousClock.now - start
        return (exit ?? process.kill(), took)
    }

    static func value(of metric: String, in text: String) -> UInt64? {
        for line in text.split(separator: "\n") where line.hasPrefix(metric + " ") {
            return UInt64(line.split(separator: " ")[1])
        }
        return nil
    }

    /// A Prometheus instant query's first value.
    static func query(_ expression: String, port: UInt16 = prometheusPort) -> String? {
        let encoded = expression.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? expression
        guard let (code, body) = Support.get(port: port, path: "/api/v1/query?query=\(encoded)"), code == 200,
              let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
              let data = json["data"] as? [String: Any], let result = data["result"] as? [[String: Any]],
              let value = result.first?["value"] as? [Any], value.count == 2 else { return nil }
        return value[1] as? String
    }

    /// A real Prometheus scraping 127.0.0.1:`target` every `interval` seconds, its data in `directory`.
    static func startPrometheus(scraping target: UInt16, every interval: Int = 1, in directory: URL) throws -> Child {
        let configuration = directory.appendingPathComponent("prometheus.yml")
        try """
            global: {scrape_interval: \(interval)s, scrape_timeout: \(interval)s, evaluation_interval: \(interval)s}
            scrape_configs:
              - job_name: tracefs
                static_configs: [{targets: ["127.0.0.1:\(target)"]}]
            """.write(to: configuration, atomically: true, encoding: .utf8)
        return try Child("/usr/bin/prometheus", ["--config.file=\(configuration.path)",
                                                  "--storage.tsdb.path=\(directory.appendingPathComponent("tsdb").path)",
                                                  "--web.listen-address=127.0.0.1:\(prometheusPort)"],
                         log: directory.appendingPathComponent("prometheus.log").path)
    }

    static func prometheusLog(in directory: URL) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("prometheus.log"), encoding: .utf8)) ?? ""
    }

    @Test("counts exactly N calls, passes promtool, is scraped by Prometheus, and leaves nothing after SIGTERM")
    func scrapeAndPrometheus() throws {
        let directory = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workload = try Self.workload(in: directory)
        let config = try Self.config(workload: workload, in: directory)
        let exporter = try Self.start(config: config, log: directory.appendingPathComponent("exporter.log"))
        var exporterRunning = true
        defer { if exporterRunning { _ = Self.terminate(exporter) } }
        #expect(!Support.kernelObjects(of: exporter.processIdentifier).isEmpty)

        let calls = 1234
        #expect(try Support.run(workload, [String(calls)]).status == 0)
        let (code, text) = try #require(Support.get(port: Self.port, path: "/metrics"))
        #expect(code == 200)
        #expect(Self.value(of: "workload_ticks_total", in: text) == UInt64(calls), "\(text)")
        #expect(text.contains("# TYPE tracefs_exporter_scrape_duration_seconds histogram"))
        #expect(Self.value(of: "tracefs_exporter_scrape_errors_total", in: text) == 0)
        let (lint, lintOutput) = try Support.promtool(text)
        #expect(lint == 0, "\(lintOutput)")
        #expect(Support.get(port: Self.port, path: "/nothing-here")?.0 == 404)

        // A real Prometheus scrapes it every second.
        let prometheus = try Self.startPrometheus(scraping: Self.port, in: directory)
        defer { _ = Self.terminate(prometheus) }
        var up: String?
        var ticks: String?
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, up != "1" || ticks != String(calls) {
            usleep(500_000)
            up = Self.query("up{job=\"tracefs\"}")
            ticks = Self.query("workload_ticks_total")
        }
        #expect(up == "1", "\(Self.prometheusLog(in: directory))")
        #expect(ticks == String(calls))

        let pid = exporter.processIdentifier
        let (exit, took) = Self.terminate(exporter)
        exporterRunning = false
        #expect(exit == .code(0))
        #expect(took < .seconds(5))
        #expect(Support.kernelObjects(of: pid).isEmpty, "\(Support.kernelObjects(of: pid))")
    }

    @Test("the uprobe example runs for real and counts malloc calls")
    func uprobeExample() throws {
        let directory = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let example = Support.packageDirectory.appendingPathComponent("examples/uprobe-malloc.yaml").path
        let exporter = try Self.start(config: example, log: directory.appendingPathComponent("exporter.log"))
        let pid = exporter.processIdentifier
        #expect(try Support.run("/bin/ls", ["/"]).status == 0)
        let (_, text) = try #require(Support.get(port: Self.port, path: "/metrics"))
        #expect((Self.value(of: "libc_malloc_calls_total", in: text) ?? 0) > 0, "\(text)")
        #expect(try Support.promtool(text).status == 0)
        let (exit, took) = Self.terminate(exporter)
        #expect(exit == .code(0))
        #expect(took < .seconds(5))
        #expect(Support.kernelObjects(of: pid).isEmpty)
    }

    @Test("after SIGKILL, the next run removes the killed run's probes and instance, and nothing else")
    func churn() throws {
        let directory = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workload = try Self.workload(in: directory)
        let config = try Self.config(workload: workload, in: directory)
        let first = try Self.start(config: config, log: directory.appendingPathComponent("first.log"))
        let killed = first.processIdentifier
        first.kill()
        #expect(!Support.kernelObjects(of: killed).isEmpty, "SIGKILL cannot clean up: the leftovers should be there")

        // Another tool's probe on the same function, which the sweep must leave alone.
        let foreign = try DynamicEvent.uprobe(system: "exptestforeign", event: "tick", file: workload,
                                              symbol: "tracefs_exporter_tick")
        try foreign.create()
        defer { try? foreign.destroy(force: true) }

        let second = try Self.start(config: config, log: directory.appendingPathComponent("second.log"))
        #expect(Support.kernelObjects(of: killed).isEmpty, "\(Support.kernelObjects(of: killed))")
        #expect(foreign.exists)
        #expect(!Support.kernelObjects(of: second.processIdentifier).isEmpty)
        #expect(try Support.run(workload, ["10"]).status == 0)
        let (_, text) = try #require(Support.get(port: Self.port, path: "/metrics"))
        #expect(Self.value(of: "workload_ticks_total", in: text) == 10, "\(text)")
        let pid = second.processIdentifier
        let (exit, _) = Self.terminate(second)
        #expect(exit == .code(0))
        #expect(Support.kernelObjects(of: pid).isEmpty)
        #expect(foreign.exists)
    }

    @Test("Prometheus scraping across SIGKILL and restart: counts up to the kill recorded, the restarted run's counts exact, nothing left")
    func churnWithPrometheus() throws {
        let directory = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workload = try Self.workload(in: directory)
        let config = try Self.config(workload: workload, in: directory)
        let prometheus = try Self.startPrometheus(scraping: Self.port, in: directory)
        defer { _ = Self.terminate(prometheus) }
        func waitFor(_ expression: String, _ expected: String) -> String? {
            var value: String?
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                value = Self.query(expression)
                if value == expected { break }
                usleep(250_000)
            }
            return value
        }

        let first = try Self.start(config: config, log: directory.appendingPathComponent("first.log"))
        #expect(try Support.run(workload, ["25"]).status == 0)
        #expect(waitFor("workload_ticks_total", "25") == "25", "\(Self.prometheusLog(in: directory))")

        // Our own scrapes, as fast as they go, while the first run is killed and the second starts:
        // each answer is the first run's 25 or the second run's counts, which only grow to 10.
        let scrapes = Scrapes()
        let scraper = Thread {
            while !scrapes.stop.load(ordering: .relaxed) {
                if let (code, text) = Support.get(port: Self.port, path: "/metrics", timeout: 2), code == 200,
                   let value = Self.value(of: "workload_ticks_total", in: text) {
                    scrapes.values.withLock { $0.append(value) }
                }
                usleep(5_000)
            }
            scrapes.done.store(true, ordering: .releasing)
        }
        scraper.start()
        let killed = first.pid
        first.kill()
        #expect(waitFor("up{job=\"tracefs\"}", "0") == "0", "Prometheus saw the exporter down")
        let second = try Self.start(config: config, log: directory.appendingPathComponent("second.log"))
        #expect(Support.kernelObjects(of: killed).isEmpty, "\(Support.kernelObjects(of: killed))")
        #expect(try Support.run(workload, ["10"]).status == 0)
        #expect(waitFor("workload_ticks_total", "10") == "10")
        scrapes.stop.store(true, ordering: .relaxed)
        while !scrapes.done.load(ordering: .acquiring) { usleep(10_000) }

        let seen = scrapes.values.withLock { $0 }
        let before = seen.prefix { $0 == 25 }
        let after = seen.dropFirst(before.count)
        #expect(!after.isEmpty, "no scrape of the second run")
        #expect(after.allSatisfy { $0 <= 10 } && zip(after, after.dropFirst()).allSatisfy { $0 <= $1 }, "\(seen)")
        #expect(after.last == 10, "\(seen)")
        // Prometheus kept the first run's count and saw exactly one counter reset.
        #expect(Self.query("max_over_time(workload_ticks_total[5m])") == "25")
        #expect(Self.query("resets(workload_ticks_total[5m])") == "1")
        #expect(Self.query("up{job=\"tracefs\"}") == "1")

        let pid = second.pid
        let (exit, took) = Self.terminate(second)
        #expect(exit == .code(0))
        #expect(took < .seconds(5))
        #expect(Support.kernelObjects(of: pid).isEmpty)
        #expect(Support.kernelObjects(of: killed).isEmpty)
    }

    /// What the scraping thread saw. Sendable: all of it is a mutex or atomics.
    final class Scrapes: Sendable {
        let values = Mutex<[UInt64]>([])
        let stop = Atomic<Bool>(false)
        let done = Atomic<Bool>(false)
    }
}
