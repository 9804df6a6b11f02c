import Foundation
import Testing
import TraceFS

/// The tool against the guest's kernel (kprobes, synthetic events, histograms) and a shell
/// workload whose opens are known, and `reap` after a SIGKILL on any kernel with uprobes.
extension KernelSuite.CommandLineTests {
    /// The name of the tracefs process `pid`'s session instance, once the file `file(name)` (a
    /// path inside the instance) reads as `ready` says; `nil` when that has not happened in a minute.
    static func waitForSession(of pid: Int32, file: (String) -> String, _ ready: (String) -> Bool) async throws -> String? {
        for _ in 0..<1200 {
            if let name = try Instance.names().first(where: { $0.hasPrefix("swtf_\(pid)_") }),
               ready(readKernelFile("/sys/kernel/tracing/instances/\(name)/\(file(name))")) {
                return name
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Runs the tool; once `file` of its session's instance reads as `ready` says, lets the
    /// workload `target` go on, waits for it to end, waits a moment for the tool to read what it
    /// caused, and sends the tool SIGINT. Returns the tool's run and its instance's name.
    static func runUntilWorkloadEnds(_ arguments: [String], workload: ShellWorkload, target: pid_t, file: (String) -> String,
                                     _ ready: (String) -> Bool) async throws -> (ChildRun, String?) {
        let running = try #require(CapturedRun(arguments))
        let instance = try await waitForSession(of: running.pid, file: file, ready)
        workload.release()
        _ = ChildRun.wait(target)
        if instance == nil { kill(running.pid, SIGKILL) }
        try await Task.sleep(for: .seconds(KernelFeatures.inGuest ? 5 : 1))
        kill(running.pid, SIGINT)
        let run = running.finish()
        try #require(instance != nil, "the tool never armed: \(run.output)")
        return (run, instance)
    }

    @Test(.enabled(if: KernelFeatures.histograms), arguments: [false, true])
    func histCountsAProcesssOpens(json: Bool) async throws {
        try await ShellWorkload.with { workload in
            let target = try #require(ChildRun.start(workload.arguments(opens: 6), environment: [:]))
            defer { workload.release(); _ = ChildRun.wait(target) }
            let (run, instance) = try await Self.runUntilWorkloadEnds(
                [tool, "hist", "syscalls:sys_enter_openat", "--key", "common_pid", "--filter", "common_pid == \(target)"]
                    + (json ? ["--json"] : []),
                workload: workload, target: target, file: { _ in "events/syscalls/sys_enter_openat/trigger" }) { $0.contains("hist:") }
            #expect(run.status == 130, "\(run.output)")
            if json {
                let lines = run.output.split(separator: "\n")
                #expect(lines.count == 1, "\(run.output)")
                let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Int], "\(run.output)")
                #expect(object == ["common_pid": Int(target), "hitcount": 6], "\(run.output)")
            } else {
                let pid = String(target)
                #expect(run.output == "common_pid  hitcount\n" + pid + String(repeating: " ", count: max(0, 10 - pid.count))
                            + "         6\n\ntotals: 1 row(s)\n", "\(run.output)")
            }
            #expect(try !Instance.names().contains { $0 == instance })
            #expect(!readKernelFile("/sys/kernel/tracing/events/syscalls/sys_enter_openat/trigger").contains("hist:"))
        }
    }

    /// Each open of the shell's is one synthetic event (sys_enter_openat joined to its exit) with
    /// the pid and the open's result, -2 (ENOENT).
    static func openQuery(_ pid: pid_t) -> String {
        "SELECT start.common_pid AS pid, end.ret AS ret FROM syscalls.sys_enter_openat AS start "
            + "JOIN syscalls.sys_exit_openat AS end ON start.common_pid = end.common_pid WHERE start.common_pid == \(pid)"
    }

    /// The enable file of the synthetic event `tracefs sql` names after its session's instance.
    static func syntheticEnable(_ instance: String) -> String { "events/synthetic/\(instance)/enable" }

    @Test(.enabled(if: KernelFeatures.synthetic && KernelFeatures.histograms))
    func sqlPrintsOneEventPerJoinedPair() async throws {
        try await ShellWorkload.with { workload in
            let target = try #require(ChildRun.start(workload.arguments(opens: 5), environment: [:]))
            defer { workload.release(); _ = ChildRun.wait(target) }
            let (run, instance) = try await Self.runUntilWorkloadEnds([tool, "sql", Self.openQuery(target)], workload: workload,
                                                                      target: target, file: Self.syntheticEnable) { $0.hasPrefix("1") }
            // The synthetic event is named after the session.
            let name = try #require(instance)
            #expect(run.status == 130, "\(run.output)")
            let lines = run.output.split(separator: "\n").map(String.init)
            #expect(lines.count == 5, "\(run.output)")
            for line in lines {
                // "              sh-1234    [000]    12.345678: swtf_99_..._1: pid=1234 ret=-2"
                #expect(line.drop { $0 == " " }.hasPrefix("sh-\(target) "), "\(line)")
                #expect(line.hasSuffix(": \(name): pid=\(target) ret=-2"), "\(line)")
            }
            #expect(!readKernelFile("/sys/kernel/tracing/synthetic_events").contains(name))
            #expect(try !Instance.names().contains(name))
        }
    }

    @Test(.enabled(if: KernelFeatures.synthetic && KernelFeatures.histograms))
    func sqlJSONLinesCarryTheSelectedFields() async throws {
        try await ShellWorkload.with { workload in
            let target = try #require(ChildRun.start(workload.arguments(opens: 4), environment: [:]))
            defer { workload.release(); _ = ChildRun.wait(target) }
            let running = try #require(CapturedRun([tool, "sql", Self.openQuery(target), "--json", "-n", "4"]))
            let armed = try await Self.waitForSession(of: running.pid, file: Self.syntheticEnable) { $0.hasPrefix("1") } != nil
            if !armed { kill(running.pid, SIGKILL) }
            workload.release()
            let run = running.finish()
            try #require(armed, "\(run.output)")
            #expect(run.status == 0, "\(run.output)")
            let lines = run.output.split(separator: "\n")
            #expect(lines.count == 4, "\(run.output)")
            for line in lines {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
                #expect(object["system"] as? String == "synthetic")
                #expect((object["event"] as? String)?.hasPrefix("swtf_\(running.pid)_") == true, "\(line)")
                #expect(object["pid"] as? Int == Int(target) && object["comm"] as? String == "sh", "\(line)")
                let fields = try #require(object["fields"] as? [String: Int], "\(line)")
                #expect(fields == ["pid": Int(target), "ret": -2], "\(line)")
            }
        }
    }

    @Test(.enabled(if: KernelFeatures.kprobes))
    func traceJSONOfACommandsOpens() async throws {
        try await ShellWorkload.with { workload in
            let name = Self.uniqueName("jsonopen")
            let run = ChildRun.run([tool, "trace", "p:\(name) do_sys_openat2 file=+0($arg2):ustring",
                                    "--filter", #"file == "/swtf-cli-nonexistent""#, "--json", "--"]
                                   + workload.arguments(opens: 3, otherOpens: 2, waitsForGo: false, holdSeconds: "0"))
            #expect(run.status == 0, "\(run.output)")
            let lines = run.output.split(separator: "\n")
            #expect(lines.count == 3, "\(run.output)")
            var pids: Set<Int> = []
            for line in lines {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
                #expect(object["event"] as? String == name)
                #expect((object["system"] as? String)?.hasPrefix("swtf_") == true)
                #expect(object["comm"] as? String == "sh")
                pids.insert(try #require(object["pid"] as? Int))
                #expect(object["timestamp_ns"] is Int && object["cpu"] is Int && object["time"] is Double)
                let fields = try #require(object["fields"] as? [String: Any])
                #expect(fields["file"] as? String == "/swtf-cli-nonexistent", "\(line)")
                // A kernel address, above Int.max: an NSNumber holding a UInt64.
                #expect((fields["__probe_ip"] as? NSNumber)?.uint64Value ?? 0 > 0xffff_8000_0000_0000, "\(line)")
            }
            #expect(pids.count == 1, "\(run.output)")
            try Self.expectNothingLeft(event: name)
        }
    }

    @Test(.enabled(if: KernelFeatures.kprobes))
    func pidAndFilterSelectOneShellsOpens() async throws {
        try await ShellWorkload.with { workload in
            let name = Self.uniqueName("pidopen")
            let traced = try #require(ChildRun.start(workload.arguments(opens: 4, otherOpens: 3), environment: [:]))
            let other = try #require(ChildRun.start(workload.arguments(opens: 4, otherOpens: 3), environment: [:]))
            defer { workload.release(); _ = ChildRun.wait(traced); _ = ChildRun.wait(other) }
            let run = try await Self.runWhenArmed([tool, "trace", "p:\(name) do_sys_openat2 file=+0($arg2):ustring",
                                                   "-p", String(traced), "--filter", #"file == "/swtf-cli-nonexistent""#,
                                                   "-d", "600"],
                                                  event: name, release: workload.release)
            #expect(run.status == 0, "\(run.output)")
            let lines = run.output.split(separator: "\n")
            #expect(lines.count == 4, "\(run.output)")
            #expect(lines.allSatisfy { $0.contains("sh-\(traced) ") && $0.hasSuffix(#"file="/swtf-cli-nonexistent""#) },
                    "\(run.output)")
            try Self.expectNothingLeft(event: name)
        }
    }

    /// libc's path, for uprobes that need no compiler (the guest has none).
    static let libc = "/lib/x86_64-linux-gnu/libc.so.6"

    @Test(.enabled(if: KernelFeatures.uprobes && access("/lib/x86_64-linux-gnu/libc.so.6", R_OK) == 0))
    func reapAfterAKillRemovesOnlyThatSessionsObjects() async throws {
        let killed = Self.uniqueName("reapkilled"), alive = Self.uniqueName("reapalive")
        // A foreign tool's uprobe, which reap must leave alone.
        let foreign = "clitest_foreign_\(getpid())/reap"
        let resolved = try DynamicEvent.uprobe(system: "check", event: "entry", file: Self.libc, symbol: "getpid")
        #expect(OtherTool.write("p:\(foreign) \(try #require(resolved.address))") == 0)
        defer { OtherTool.remove(foreign) }
        let first = try #require(ChildRun.start([tool, "trace", "p:\(killed) \(Self.libc):getpid"], environment: [:]))
        let second = try #require(ChildRun.start([tool, "trace", "p:\(alive) \(Self.libc):getpid"], environment: [:]))
        var ready = false
        for _ in 0..<1200 where !ready {
            let events = try DynamicEvent.all()
            ready = events.contains { $0.event == killed } && events.contains { $0.event == alive }
            if !ready { try await Task.sleep(for: .milliseconds(50)) }
        }
        kill(first, SIGKILL)
        _ = ChildRun.wait(first)
        if !ready { kill(second, SIGKILL); _ = ChildRun.wait(second); _ = try? TraceSession.removeOrphans() }
        try #require(ready, "the two traces never created their probes")
        let aliveInstance = try Instance.names().first { $0.hasPrefix("swtf_\(second)_") }

        let run = ChildRun.run([tool, "reap"])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("removed group swtf_\(first)_"), "\(run.output)")
        #expect(!run.output.contains("swtf_\(second)_"), "\(run.output)")
        try Self.expectNothingLeft(pid: first, event: killed)
        let events = try DynamicEvent.all()
        #expect(events.contains { $0.event == alive && $0.system.hasPrefix("swtf_\(second)_") }, "\(events)")
        #expect(events.contains { "\($0.system)/\($0.event)" == foreign }, "\(events)")
        let instances = try Instance.names()
        #expect(aliveInstance != nil && instances.contains { $0 == aliveInstance })

        // The live trace still ends normally and removes its own.
        kill(second, SIGTERM)
        let status = ChildRun.wait(second)
        #expect(status & 0x7F == 0 && (status >> 8) & 0xFF == 143)
        try Self.expectNothingLeft(pid: second, event: alive)
    }

    // MARK: - Kernel stacks (-s)

    /// The events of `trace -s` output, each with its ` => frame` lines; every frame must read as
    /// the kernel's %pS (`symbol+0xOFFSET/0xSIZE`, ` [module]` for a module's).
    static func stacks(in output: String) -> [(event: String, frames: [String])] {
        var events: [(event: String, frames: [String])] = []
        for line in output.split(separator: "\n").map(String.init) {
            if line.hasPrefix(" => ") {
                #expect(isFrame(String(line.dropFirst(4))), "\(line)")
                if !events.isEmpty { events[events.count - 1].frames.append(String(line.dropFirst(4))) }
                else { Issue.record("a stack before any event: \(output)") }
            } else {
                events.append((line, []))
            }
        }
        return events
    }

    static func isFrame(_ frame: String) -> Bool {
        let parts = frame.split(separator: " ", maxSplits: 1)
        guard let symbol = parts.first, let plus = symbol.firstIndex(of: "+") else { return false }
        let name = symbol[..<plus], place = symbol[symbol.index(after: plus)...].split(separator: "/")
        return !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || "_.$".contains($0) }
            && place.count == 2 && place.allSatisfy { $0.hasPrefix("0x") && UInt64($0.dropFirst(2), radix: 16) != nil }
            && (parts.count == 1 || (parts[1].hasPrefix("[") && parts[1].hasSuffix("]")))
    }

    @Test(.enabled(if: KernelFeatures.kprobes))
    func stackOfAKprobeStartsAtTheProbedFunction() async throws {
        try await ShellWorkload.with { workload in
            let name = Self.uniqueName("stack")
            let run = ChildRun.run([tool, "trace", "-s", "p:\(name) do_sys_openat2 file=+0($arg2):ustring",
                                    "--filter", #"file == "/swtf-cli-nonexistent""#, "--"]
                                   + workload.arguments(opens: 2, waitsForGo: false, holdSeconds: "0"))
            #expect(run.status == 0, "\(run.output)")
            let events = Self.stacks(in: run.output)
            #expect(events.count == 2, "\(run.output)")
            for (event, frames) in events {
                #expect(event.contains(": \(name): __probe_ip="), "\(run.output)")
                // From the probed instruction (the kprobe's registers) outwards: the syscall's path.
                #expect(frames.first?.hasPrefix("do_sys_openat2+0x") == true, "\(run.output)")
                #expect(frames.contains { $0.hasPrefix("__x64_sys_openat+") || $0.hasPrefix("do_syscall_64+") }, "\(run.output)")
            }
            try Self.expectNothingLeft(event: name)
        }
    }

    @Test(.enabled(if: KernelFeatures.uprobes && SymbolTestPrograms.available))
    func stackOfAUprobeIsTheKernelsPathToItsHandler() async throws {
        try await CommandLineTestProgram.with { program in
            let name = Self.uniqueName("ustack")
            let run = ChildRun.run([tool, "trace", "-s", "p:\(name) \(program.path):swtf_target", "--", program.path, "3"])
            #expect(run.status == 0, "\(run.output)")
            let events = Self.stacks(in: run.output)
            #expect(events.count == 3, "\(run.output)")
            for (event, frames) in events {
                #expect(event.contains(": \(name): __probe_ip=0x"), "\(run.output)")
                // The kernel stack of a uprobe hit: the breakpoint's return to user space, which runs
                // the uprobe handlers. (The user-space stack is not read.)
                #expect(frames.contains { $0.hasPrefix("uprobe_") || $0.hasPrefix("handle_swbp+") }, "\(run.output)")
            }

            let json = ChildRun.run([tool, "trace", "-s", "--json", "-n", "2", "p:\(name) \(program.path):swtf_target",
                                     "--", program.path, "3"])
            let lines = json.output.split(separator: "\n")
            #expect(lines.count == 2, "\(json.output)")
            for line in lines {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
                let stack = try #require(object["stack"] as? [String], "\(line)")
                #expect(!stack.isEmpty && stack.allSatisfy(Self.isFrame), "\(line)")
            }
            try Self.expectNothingLeft(event: name)
        }
    }

    // MARK: - funccount on a program's functions

    /// bcc's table as funccount prints it: a blank line, the header, then the rows given.
    static func funcTable(_ rows: [(String, Int)]) -> String {
        func padded(_ text: String, _ width: Int, left: Bool) -> String {
            let fill = String(repeating: " ", count: max(0, width - text.count))
            return left ? fill + text : text + fill
        }
        return "\n" + padded("FUNC", 36, left: false) + " " + padded("COUNT", 8, left: true) + "\n"
            + rows.map { padded($0.0, 36, left: false) + " " + padded(String($0.1), 8, left: true) + "\n" }.joined()
    }

    @Test(.enabled(if: KernelFeatures.uprobes && SymbolTestPrograms.available), arguments: [true, false])
    func funccountExpandsAGlobOverAProgramsFunctions(withPID: Bool) async throws {
        try await CommandLineTestProgram.with { program in
            let target = try #require(ChildRun.start([program.path, "3", program.go, "300"], environment: [:]))
            defer { program.release(); _ = ChildRun.wait(target) }
            // -p counts the recorded events and ends with the process; without it the kernel's
            // uprobe_profile counts, until SIGINT.
            let run = try await Self.runWhenArmed([tool, "funccount", "\(program.path):swtf_*", "-d", "600"]
                                                    + (withPID ? ["-p", String(target)] : []),
                                                  event: "swtf_target", release: program.release, ending: withPID ? nil : SIGINT)
            #expect(run.status == (withPID ? 0 : 130), "\(run.output)")
            // Fewest first, ties by name; the data object swtf_calls is no function. Piped: no status line.
            #expect(run.output == Self.funcTable([("swtf_glob_one", 3), ("swtf_target", 3), ("swtf_glob_two", 6)]),
                    "\(run.output)")
            let left = try DynamicEvent.all().filter { $0.event.hasPrefix("swtf_glob_") || $0.event.hasPrefix("swtf_target_") }
            #expect(left.isEmpty, "\(left)")
        }
    }

    @Test(.enabled(if: KernelFeatures.uprobes && SymbolTestPrograms.available))
    func funccountRefusesAProgramGlobAboveTheLimitBeforeProbing() async throws {
        try await CommandLineTestProgram.with { program in
            let before = readKernelFile("/sys/kernel/tracing/dynamic_events")
            let run = ChildRun.run([tool, "funccount", "\(program.path):swtf_*", "--max", "2"])
            #expect(run.status == 64, "\(run.output)")
            #expect(run.output.contains("\(program.path):swtf_* matches 3 functions, more than --max 2; narrow the pattern or raise --max"),
                    "\(run.output)")
            let none = ChildRun.run([tool, "funccount", "\(program.path):nothing_like_this*"])
            #expect(none.status == 1, "\(none.output)")
            #expect(none.output == "tracefs: no function of \(program.path) matches 'nothing_like_this*'; "
                        + "see 'nm -D \(program.path)' or 'readelf -Ws \(program.path)'\n", "\(none.output)")
            let missing = ChildRun.run([tool, "funccount", "/nonexistent/swtf-lib.so:mal*"])
            #expect(missing.status == 1 && missing.output.hasPrefix("tracefs: ") && missing.output.contains("/nonexistent/swtf-lib.so"),
                    "\(missing.output)")
            #expect(readKernelFile("/sys/kernel/tracing/dynamic_events") == before)
        }
    }

    // MARK: - The status line

    /// `script` (util-linux) runs a command on a pseudo-terminal and copies what it shows.
    static let script = "/usr/bin/script"

    /// A shell word: `text` in single quotes.
    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }

    /// The long runs that keep a status line: on libc's getpid (any kernel with uprobes, no
    /// compiler needed), and funclatency where the kernel has what it needs.
    static var statusCommands: [[String]] {
        [["trace", "p:\(uniqueName("status")) \(libc):getpid", "-d", "2.5"], ["funccount", "\(libc):getpid", "-d", "2.5"]]
            + (KernelFeatures.kprobes && KernelFeatures.synthetic && KernelFeatures.histograms
                ? [["funclatency", "do_sys_openat2", "-d", "2.5"]] : [])
    }

    @Test(.enabled(if: KernelFeatures.uprobes && access("/usr/bin/script", X_OK) == 0
                       && access("/lib/x86_64-linux-gnu/libc.so.6", R_OK) == 0),
          arguments: statusCommands)
    func aTerminalShowsAStatusLineThatIsErasedAtTheEnd(arguments: [String]) {
        let command = ([tool] + arguments).map(Self.quoted).joined(separator: " ")
        let run = ChildRun.run([Self.script, "-qec", command, "/dev/null"])
        #expect(run.status == 0, "\(run.output)")
        let erase = "\r\u{1B}[K"
        let probes = arguments[0] == "funclatency" ? 2 : 1
        #expect(run.output.contains(erase + "tracefs: \(probes) probe(s) armed, "), "\(run.output.debugDescription)")
        #expect(run.output.contains(" lost; Ctrl-C ends"), "\(run.output.debugDescription)")
        // The last status drawn is erased before the tool ends.
        let lastStatus = run.output.range(of: "Ctrl-C ends", options: .backwards)
        #expect(lastStatus.map { run.output[$0.upperBound...].hasPrefix(erase) } == true, "\(run.output.debugDescription)")
        // The same run piped shows no status.
        let piped = ChildRun.run([tool] + arguments)
        #expect(piped.status == 0 && !piped.output.contains("armed") && !piped.output.contains("\u{1B}"), "\(piped.output)")
    }
}
