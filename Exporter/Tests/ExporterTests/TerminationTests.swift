import Foundation
import Testing
import TraceFS
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM while the exporter is still starting: before, while and just after it creates its
/// probes (before any server runs), it must remove what it made and exit 0.
@Suite("SIGTERM while arming", .serialized,
       .enabled(if: getuid() == 0 && (KernelGate.present["uprobes"] == true || KernelGate.required.contains("uprobes")),
                "needs root and uprobe events"))
struct TerminationTests {
    static let port: UInt16 = 19437
    /// Functions of libc, one uprobe and one counter each: arming takes a while.
    static let functions = ["malloc", "free", "calloc", "realloc", "strdup", "fopen", "fclose", "getenv", "qsort", "strtol"]

    /// On a kernel with everything, the kernel example (kprobes, triggers, synthetic events);
    /// otherwise ten uprobes.
    static func config(in directory: URL) throws -> String {
        if KernelGate.canRun {
            try KernelGate.requireFeatures()
            return Support.packageDirectory.appendingPathComponent("examples/kernel.yaml").path
        }
        let file = directory.appendingPathComponent("many.yaml")
        var text = "probes:\n"
        for function in functions {
            text += "  - {name: \(function), type: uprobe, file: \(ConfigTests.libc), symbol: \(function)}\n"
        }
        text += "metrics:\n  counters:\n"
        for function in functions { text += "    - {name: \(function)_calls_total, probe: \(function)}\n" }
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// How long a signalled exporter may take to exit: it finishes arming, then removes it all.
    /// In the guest the whole start comes first (a debug build parsing /proc/kallsyms under TCG).
    static let exitBound: Duration = KernelGate.inGuest ? .seconds(60) : .seconds(5)

    /// Sends SIGTERM to a fresh exporter when `trigger` says so, then checks a clean exit and an
    /// empty kernel.
    func signalled(config: String, directory: URL, run: Int, blockingTermination: Bool,
                   trigger: (Child) -> Void) throws {
        let log = directory.appendingPathComponent("exporter-\(run).log")
        let exporter = try Child(Support.exporter, ["--config", config, "--listen", "127.0.0.1:\(Self.port)"],
                                 log: log.path, blockingTermination: blockingTermination)
        trigger(exporter)
        let sent = ContinuousClock.now
        exporter.send(SIGTERM)
        let exit = exporter.wait(timeout: Self.exitBound + .seconds(10)) ?? exporter.kill()
        let took = ContinuousClock.now - sent
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        #expect(exit == .code(0), "run \(run): \(text)")
        #expect(took < Self.exitBound, "run \(run): \(took)")
        #expect(Support.kernelObjects(of: exporter.pid).isEmpty, "run \(run): \(Support.kernelObjects(of: exporter.pid))")
    }

    @Test("SIGTERM at fixed delays after spawn (pending from the first instruction on, as a parent that blocks it passes it on)")
    func atDelays() throws {
        let directory = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try Self.config(in: directory)
        let delays: [Int] = KernelGate.inGuest ? [0, 50, 1000] : [0, 1, 2, 5, 10, 20, 50, 100, 200, 400]
        for (run, delay) in delays.enumerated() {
            try signalled(config: config, directory: directory, run: run, blockingTermination: true) { _ in
                usleep(UInt32(delay * 1000))
            }
        }
    }

    @Test("SIGTERM as soon as its first probe is in the kernel (signals unblocked, as systemd starts it)")
    func whileCreating() throws {
        let directory = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try Self.config(in: directory)
        var caught = 0
        for run in 0..<(KernelGate.inGuest ? 2 : 8) {
            try signalled(config: config, directory: directory, run: run, blockingTermination: false) { exporter in
                let deadline = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < deadline, exporter.isRunning, Support.kernelObjects(of: exporter.pid).isEmpty {}
                if !Support.kernelObjects(of: exporter.pid).isEmpty { caught += 1 }
            }
        }
        #expect(caught > 0, "SIGTERM never came while the probes existed")
    }
}
