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
                let traced = try #require(ChildRun.start([program.path, "6", "2500", "500"], environment: [:]))
                let other = try #require(ChildRun.start([program.path, "6", "2500", "500"], environment: [:]))
                defer { _ = ChildRun.wait(traced); _ = ChildRun.wait(other) }
                let run = ChildRun.run([tool, "trace", "p:\(name) \(program.path):swtf_target arg=%di:s32",
                                        "-p", String(traced), "--filter", "arg >= 2 && arg != 4", "-d", "10"])
                #expect(run.status == 0, "\(run.output)")
                let lines = run.output.split(separator: "\n")
                #expect(lines.count == 3, "\(run.output)")
                #expect(lines.allSatisfy { $0.contains("-\(traced) ") }, "\(run.output)")
                #expect(lines.map { $0.split(separator: "=").last.map(String.init) ?? "" } == ["2", "3", "5"])
                try Self.expectNothingLeft(event: name)
            }
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

        @Test(.enabled(if: KernelFeatures.kprobes && SymbolTestPrograms.available))
        func traceOfOpensCountsEachOpen() async throws {
            try await CommandLineTestProgram.with { program in
                let name = Self.uniqueName("open")
                let run = ChildRun.run([tool, "trace", "p:\(name) do_sys_openat2 file=+0($arg2):ustring",
                                        "--filter", #"file == "/swtf-cli-nonexistent""#, "--", program.path, "0", "0", "0", "4"])
                #expect(run.status == 0, "\(run.output)")
                let lines = run.output.split(separator: "\n")
                #expect(lines.count == 4, "\(run.output)")
                #expect(lines.allSatisfy { $0.contains(#"file="/swtf-cli-nonexistent""#) })
                try Self.expectNothingLeft(event: name)
            }
        }

        @Test(.enabled(if: KernelFeatures.kprobes && SymbolTestPrograms.available))
        func funccountCountsACommandsCalls() async throws {
            try await CommandLineTestProgram.with { program in
                let target = try #require(ChildRun.start([program.path, "0", "2500", "300", "7"], environment: [:]))
                defer { _ = ChildRun.wait(target) }
                let run = ChildRun.run([tool, "funccount", "do_sys_openat*", "-p", String(target), "-d", "10"])
                #expect(run.status == 0, "\(run.output)")
                let row = run.output.split(separator: "\n").first { $0.hasPrefix("do_sys_openat2 ") }
                #expect(row?.split(separator: " ").last == "7", "\(run.output)")
            }
        }

        @Test(.enabled(if: KernelFeatures.kprobes && KernelFeatures.synthetic && KernelFeatures.histograms
                       && SymbolTestPrograms.available))
        func funclatencyCountsEveryCall() async throws {
            try await CommandLineTestProgram.with { program in
                let target = try #require(ChildRun.start([program.path, "0", "2500", "300", "9"], environment: [:]))
                defer { _ = ChildRun.wait(target) }
                let run = ChildRun.run([tool, "funclatency", "-u", "-p", String(target), "-d", "10", "do_sys_openat2"])
                #expect(run.status == 0, "\(run.output)")
                #expect(run.output.contains("     usecs               : count     distribution"), "\(run.output)")
                #expect(run.output.contains("count: 9"), "\(run.output)")
            }
        }
    }
}
