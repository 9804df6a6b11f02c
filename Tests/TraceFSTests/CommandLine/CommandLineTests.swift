import Foundation
import Testing
import TraceFS

/// The `tracefs` executable, run as a process, on the kernel the tests run on.
extension KernelSuite {
    @Suite(.enabled(if: KernelFeatures.isRoot, "needs root"))
    struct CommandLineTests {
        static let tool = ChildRun.builtProduct("tracefs")
        var tool: String { Self.tool }
        /// An event name no other test or tool uses.
        static func uniqueName(_ label: String) -> String { "clitest_\(label)_\(getpid())" }

        /// Nothing of the tracefs process `pid` (its session's names) nor any event named `event`
        /// is left in the kernel.
        static func expectNothingLeft(pid: Int32? = nil, event: String) throws {
            let events = try DynamicEvent.all()
            #expect(!events.contains { $0.event == event }, "\(events)")
            if let pid {
                #expect(!events.contains { $0.system.hasPrefix("swtf_\(pid)_") })
                #expect(try !Instance.names().contains { $0.hasPrefix("swtf_\(pid)_") })
            }
        }

        @Test func doctorReportsTheKernelsFeatures() {
            let run = ChildRun.run([tool, "doctor"])
            #expect(run.status == 0, "\(run.output)")
            #expect(run.output.contains("tracefs at /sys/kernel/tracing"))
            let kprobes = run.output.split(separator: "\n").first { $0.hasPrefix("  kprobes ") }
            #expect(kprobes?.contains(KernelFeatures.capabilities?.kprobeEvents == true ? "yes" : "CONFIG_KPROBE_EVENTS") == true,
                    "\(run.output)")
            let histograms = run.output.split(separator: "\n").first { $0.hasPrefix("  histograms ") }
            #expect(histograms?.contains(KernelFeatures.capabilities?.histograms == true ? "yes" : "CONFIG_HIST_TRIGGERS") == true)
        }

        @Test(.enabled(if: KernelFeatures.uprobes && SymbolTestPrograms.available))
        func traceOfACommandPrintsOneTracePipeLinePerCall() async throws {
            try await CommandLineTestProgram.with { program in
                let name = Self.uniqueName("text")
                let run = ChildRun.run([tool, "trace", "p:\(name) \(program.path):swtf_target", "--", program.path, "5"])
                #expect(run.status == 0, "\(run.output)")
                let lines = run.output.split(separator: "\n").map(String.init)
                #expect(lines.count == 5, "\(run.output)")
                var pids: Set<String> = []
                for line in lines {
                    // "   swtf_cli_prog-1234    [001]  1234.567890: NAME: __probe_ip=0x..."
                    let trimmed = line.drop { $0 == " " }
                    #expect(trimmed.hasPrefix("swtf_cli_prog-"), "\(line)")
                    let pid = trimmed.dropFirst("swtf_cli_prog-".count).prefix { $0.isNumber }
                    pids.insert(String(pid))
                    #expect(line.contains(": \(name): __probe_ip=0x"), "\(line)")
                    let cpu = try #require(line.split(separator: "[").last?.prefix(3))
                    let digits = cpu.allSatisfy { $0.isNumber }
                    #expect(digits, "\(line)")
                    let time = try #require(line.split(separator: "]").last?.split(separator: ":").first)
                    let parts = time.trimmingCharacters(in: .whitespaces).split(separator: ".")
                    #expect(parts.count == 2 && parts[1].count == 6, "\(line)")
                }
                #expect(pids.count == 1)
                try Self.expectNothingLeft(event: name)
            }
        }

        @Test(.enabled(if: KernelFeatures.uprobes && SymbolTestPrograms.available))
        func jsonLinesCarryTypedFields() async throws {
            try await CommandLineTestProgram.with { program in
                let entry = Self.uniqueName("in"), exit = Self.uniqueName("out")
                let run = ChildRun.run([tool, "trace", "p:\(entry) \(program.path):swtf_target arg=%di:s32",
                                        "r:\(exit) \(program.path):swtf_target", "--json", "--", program.path, "3"])
                #expect(run.status == 0, "\(run.output)")
                let lines = run.output.split(separator: "\n")
                #expect(lines.count == 6, "\(run.output)")
                var arguments: [Int] = []
                for line in lines {
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
                    #expect(object["pid"] is Int && object["cpu"] is Int && object["timestamp_ns"] is Int)
                    #expect(object["comm"] as? String == "swtf_cli_prog")
                    let fields = try #require(object["fields"] as? [String: Any])
                    if object["event"] as? String == entry {
                        arguments.append(try #require(fields["arg"] as? Int))
                    } else {
                        #expect(object["event"] as? String == exit)
                    }
                }
                #expect(arguments == [0, 1, 2])
                try Self.expectNothingLeft(event: entry)
            }
        }

        @Test(.enabled(if: KernelFeatures.uprobes && SymbolTestPrograms.available))
        func pidAndFilterSelectOneProcesssCalls() async throws {
            try await CommandLineTestProgram.with { program in
                let name = Self.uniqueName("pid")
                let traced = try #require(ChildRun.start([program.path, "6", program.go, "500"], environment: [:]))
                let other = try #require(ChildRun.start([program.path, "6", program.go, "500"], environment: [:]))
                defer { program.release(); _ = ChildRun.wait(traced); _ = ChildRun.wait(other) }
                let run = try await Self.runWhenArmed([tool, "trace", "p:\(name) \(program.path):swtf_target arg=%di:s32",
                                                       "-p", String(traced), "--filter", "arg >= 2 && arg != 4", "-d", "600"],
                                                      event: name, release: program.release)
                #expect(run.status == 0, "\(run.output)")
                let lines = run.output.split(separator: "\n")
                #expect(lines.count == 3, "\(run.output)")
                #expect(lines.allSatisfy { $0.contains("-\(traced) ") }, "\(run.output)")
                #expect(lines.map { $0.split(separator: "=").last.map(String.init) ?? "" } == ["2", "3", "5"])
                try Self.expectNothingLeft(event: name)
            }
        }

        /// Runs the tool with `arguments`; once its session has created and enabled `event`, lets
        /// `program` go on; when the program has ended, sends the tool `ending` if given (the tool
        /// is expected to end by itself otherwise).
        static func runWhenArmed(_ arguments: [String], event: String, release: () -> Void,
                                 ending: Int32? = nil) async throws -> ChildRun {
            let running = try #require(CapturedRun(arguments))
            var armed = false
            for _ in 0..<6000 where !armed {
                // funccount names its events `<function>_<index>_<pid>`.
                let probe = try DynamicEvent.all().first {
                    ($0.event == event || $0.event.hasPrefix(event + "_")) && $0.system.hasPrefix("swtf_\(running.pid)_")
                }
                if let probe {
                    let enable = "/sys/kernel/tracing/instances/\(probe.system)/events/\(probe.system)/\(probe.event)/enable"
                    armed = readText(enable)?.hasPrefix("1") == true
                }
                if !armed { try await Task.sleep(for: .milliseconds(50)) }
            }
            if !armed { kill(running.pid, SIGKILL) }
            release()
            if let ending {
                try await Task.sleep(for: .seconds(KernelFeatures.inGuest ? 10 : 1))
                kill(running.pid, ending)
            }
            let run = running.finish()
            try #require(armed, "the tool never armed its probe: \(run.output)")
            return run
        }

        /// Starts `tracefs trace` on every process's calls and waits until its probe is in the kernel.
        func startTracing(_ program: CommandLineTestProgram, as name: String) async throws -> Int32 {
            let pid = try #require(ChildRun.start([tool, "trace", "p:\(name) \(program.path):swtf_target"], environment: [:]))
            var ready = false
            for _ in 0..<600 where !ready {
                ready = try DynamicEvent.all().contains { $0.event == name }
                if !ready { try await Task.sleep(for: .milliseconds(50)) }
            }
            if !ready { kill(pid, SIGKILL); _ = ChildRun.wait(pid); _ = try? TraceSession.removeOrphans() }
            try #require(ready, "tracefs trace never created its probe")
            try await Task.sleep(for: .milliseconds(300))
            return pid
        }

        @Test(.enabled(if: KernelFeatures.uprobes && SymbolTestPrograms.available), arguments: [SIGINT, SIGTERM])
        func traceRemovesEverythingOnASignal(signal: Int32) async throws {
            try await CommandLineTestProgram.with { program in
                let name = Self.uniqueName("signal\(signal)")
                let pid = try await startTracing(program, as: name)
                kill(pid, signal)
                let status = ChildRun.wait(pid)
                #expect(status & 0x7F == 0, "tracefs died of the signal instead of ending")
                #expect((status >> 8) & 0xFF == 128 + signal)
                try Self.expectNothingLeft(pid: pid, event: name)
            }
        }

        @Test(.enabled(if: KernelFeatures.uprobes && SymbolTestPrograms.available))
        func reapRemovesWhatAKilledTraceLeft() async throws {
            try await CommandLineTestProgram.with { program in
                let name = Self.uniqueName("kill")
                let pid = try await startTracing(program, as: name)
                kill(pid, SIGKILL)
                _ = ChildRun.wait(pid)
                #expect(try DynamicEvent.all().contains { $0.event == name })
                let run = ChildRun.run([tool, "reap"])
                #expect(run.status == 0, "\(run.output)")
                #expect(run.output.contains("removed group swtf_\(pid)_"), "\(run.output)")
                try Self.expectNothingLeft(pid: pid, event: name)
            }
        }

        @Test(.enabled(if: KernelFeatures.kprobesMissing))
        func missingKernelFeaturesAreRefusedInOneLine() {
            for arguments in [["trace", "p:do_sys_openat2"], ["funclatency", "do_sys_openat2"], ["funccount", "vfs_*"]] {
                let run = ChildRun.run([tool] + arguments)
                #expect(run.status == 1, "\(arguments): \(run.output)")
                #expect(run.output == "tracefs: this kernel has no kprobe events (CONFIG_KPROBE_EVENTS); run 'tracefs doctor'\n",
                        "\(arguments): \(run.output)")
            }
        }

        @Test(.enabled(if: !KernelFeatures.histograms))
        func histogramsAreRefusedWithoutHistTriggers() {
            let run = ChildRun.run([tool, "hist", "sched:sched_switch", "--key", "next_pid"])
            #expect(run.status == 1, "\(run.output)")
            #expect(run.output.contains("CONFIG_HIST_TRIGGERS") && run.output.contains("tracefs doctor"), "\(run.output)")
        }

        @Test(arguments: [["trace"], ["trace", "p:"], ["trace", "p:do_sys_openat2", "--filter", "a =="],
                          ["trace", "p:do_sys_openat2", "-n", "0"], ["trace", "p:/bin/true:0xzz"],
                          ["trace", "r:/bin/true:0x10"], ["trace", "p:x", "-p", "1", "--", "/bin/true"],
                          ["funccount"], ["list", "--kind", "nonsense"], ["nonsense"]])
        func usageErrorsExit64(arguments: [String]) {
            let run = ChildRun.run([tool] + arguments)
            #expect(run.status == 64, "\(arguments): \(run.output)")
        }

        // MARK: - The guest's kernel: kprobes, synthetic events, histograms

        @Test(.enabled(if: KernelFeatures.kprobes))
        func traceOfOpensCountsEachOpen() async throws {
            try await ShellWorkload.with { workload in
                let name = Self.uniqueName("open")
                let run = ChildRun.run([tool, "trace", "p:\(name) do_sys_openat2 file=+0($arg2):ustring",
                                        "--filter", #"file == "/swtf-cli-nonexistent""#, "--"]
                                       + workload.arguments(opens: 4, waitsForGo: false, holdSeconds: "0"))
                #expect(run.status == 0, "\(run.output)")
                let lines = run.output.split(separator: "\n")
                #expect(lines.count == 4, "\(run.output)")
                #expect(lines.allSatisfy { $0.contains(#"file="/swtf-cli-nonexistent""#) })
                try Self.expectNothingLeft(event: name)
            }
        }

        @Test(.enabled(if: KernelFeatures.kprobes))
        func funccountCountsACommandsCalls() async throws {
            try await ShellWorkload.with { workload in
                let target = try #require(ChildRun.start(workload.arguments(opens: 7), environment: [:]))
                defer { workload.release(); _ = ChildRun.wait(target) }
                let run = try await Self.runWhenArmed([tool, "funccount", "do_sys_openat2", "-p", String(target), "-d", "600"],
                                                      event: "do_sys_openat2", release: workload.release)
                #expect(run.status == 0, "\(run.output)")
                let row = run.output.split(separator: "\n").first { $0.hasPrefix("do_sys_openat2 ") }
                #expect(row?.split(separator: " ").last == "7", "\(run.output)")
            }
        }

        @Test(.enabled(if: KernelFeatures.kprobes && KernelFeatures.synthetic && KernelFeatures.histograms))
        func funclatencyCountsEveryCall() async throws {
            try await ShellWorkload.with { workload in
                let target = try #require(ChildRun.start(workload.arguments(opens: 9), environment: [:]))
                defer { workload.release(); _ = ChildRun.wait(target) }
                // The exit probe is enabled last.
                let run = try await Self.runWhenArmed([tool, "funclatency", "-u", "-p", String(target), "-d", "600", "do_sys_openat2"],
                                                      event: "exit", release: workload.release, ending: SIGINT)
                #expect(run.status == 130, "\(run.output)")
                #expect(run.output.contains("     usecs               : count     distribution"), "\(run.output)")
                #expect(run.output.contains("count: 9"), "\(run.output)")
            }
        }
    }
}

/// A small file's text, or `nil`.
func readText(_ path: String) -> String? {
    guard let file = fopen(path, "r") else { return nil }
    defer { fclose(file) }
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = fread(&buffer, 1, buffer.count, file)
    return String(decoding: buffer[0..<count], as: UTF8.self)
}

/// A process whose standard output and error are collected until it ends.
struct CapturedRun {
    let pid: pid_t
    private let output: Int32

    init?(_ arguments: [String]) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { return nil }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
        posix_spawn_file_actions_adddup2(&actions, ends[1], 2)
        posix_spawn_file_actions_addclose(&actions, ends[0])
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        close(ends[1])
        guard spawned == 0 else { close(ends[0]); return nil }
        self.pid = pid
        output = ends[0]
    }

    /// Reads the output to its end and waits for the process.
    func finish() -> ChildRun {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += chunk[0..<count]
        }
        close(output)
        let status = ChildRun.wait(pid)
        let exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return ChildRun(status: exit, output: String(decoding: bytes, as: UTF8.self))
    }
}
