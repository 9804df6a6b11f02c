import ArgumentParser
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Options every tracing subcommand shares: which processes, and for how long.
struct ProcessOptions: ParsableArguments {
    @Option(name: .customShort("p"), help: ArgumentHelp("Only this process and its threads (read from /proc/PID/task when it starts).", valueName: "pid"))
    var pid: Int32?

    @Option(name: .customShort("d"), help: ArgumentHelp("Stop after this many seconds.", valueName: "seconds"))
    var duration: Double?

    func validate() throws {
        if let pid, pid <= 0 { throw ValidationError("-p takes a process id greater than 0") }
        if let duration, duration <= 0 { throw ValidationError("-d takes a number of seconds greater than 0") }
        if let pid, threads(of: pid) == nil { throw ValidationError("no process \(pid) is running") }
    }

    /// `common_pid == tid || ...` over the process's threads, or `nil` without `-p`.
    func pidFilter() throws -> EventFilter? {
        guard let pid else { return nil }
        guard let tids = threads(of: pid), let first = tids.first else {
            throw ValidationError("no process \(pid) is running")
        }
        return tids.dropFirst().reduce(EventFilter.pid(first)) { $0 || .pid($1) }
    }
}

/// `tracefs trace`: perf-tools' kprobe/uprobe in one command.
struct Trace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Trace kernel or user-space functions and print each call as trace_pipe does.",
        usage: "tracefs trace PROBE... [-p PID] [--comm NAME] [--filter EXPR] [-d SECONDS] [-n COUNT] [-s] [--json] [-- COMMAND [ARG...]]",
        discussion: """
            A probe is 'p|r[:[GROUP/]NAME] TARGET [FETCHARGS...]' as in perf-tools' kprobe and uprobe: \
            TARGET is [MODULE:]SYMBOL[+OFFSET] in the kernel, or /PATH:FUNCTION[+OFFSET] or /PATH:0xOFFSET \
            in a user-space program or library; 'r' probes the return. FETCHARGS are the kernel's \
            (NAME=+0($arg2):ustring, ret=$retval:s64). The NAME may be left out; the GROUP is always the \
            session's own, so that cleanup removes exactly its probes.

            Examples:
              tracefs trace 'p:do_sys_openat2 file=+0($arg2):ustring' -- /bin/cat /etc/hostname
              tracefs trace 'r:do_sys_openat2 ret=$retval:s64' -p 1234 -d 10
              tracefs trace 'p:ext4:ext4_file_open' --comm bash
              tracefs trace 'p:/bin/bash:readline' 'r:/bin/bash:readline' -n 10
              tracefs trace 'p:/usr/lib/x86_64-linux-gnu/libc.so.6:malloc size=%di:u64' -p 1234 --filter 'size > 4096'
              tracefs trace 'p:/tmp/prog:0x1139' --json | jq .fields
              tracefs trace -s 'p:do_sys_openat2' -n 1 -- /bin/true

            Lines are 'COMM-PID [CPU] SECONDS.MICROS: EVENT: NAME=VALUE ...'. With --json, one object \
            per line: time, timestamp_ns, cpu, pid, comm, system, event, fields (numbers as numbers, \
            strings as strings). With -s, each event is followed by its kernel stack, innermost frame first, \
            in ' => symbol+0xOFFSET/0xSIZE' lines (with --json, a "stack" array of those strings); for a \
            kprobe it starts at the probed function, for a uprobe it is the kernel's path that ran the \
            handler (the user-space stack is not read). With '-- COMMAND', only the command and the children it starts are \
            traced, from its first instruction, and the trace ends when it exits (with its status). \
            Exit status: 0; 1 when the kernel refuses (a missing feature, an unknown symbol); 64 for \
            usage errors; 130/143 on SIGINT/SIGTERM.
            """)

    @Argument(help: "Probes, such as 'p:do_sys_openat2 file=+0($arg2):ustring' or 'r:/bin/bash:readline'.")
    var probes: [String] = []

    @OptionGroup var processes: ProcessOptions

    @Option(help: "Only events of tasks with this command name (the kernel's 'comm' filter).")
    var comm: String?

    @Option(help: "A filter in the kernel's syntax, such as 'ret < 0 && common_pid != 1'; combined with -p and --comm by &&.")
    var filter: String?

    @Option(name: .customShort("n"), help: ArgumentHelp("Stop after this many events.", valueName: "count"))
    var count: Int?

    @Flag(help: "One JSON object per event.")
    var json = false

    @Flag(name: .customShort("s"), help: "Print the kernel stack of each event (the instance's stacktrace option).")
    var stacks = false

    /// The command after `--` (see ``Entry/command``).
    var command: [String] { Entry.command }

    func validate() throws {
        guard !probes.isEmpty else { throw ValidationError("give at least one probe, such as 'p:do_sys_openat2'") }
        if let count, count <= 0 { throw ValidationError("-n takes a number of events greater than 0") }
        if processes.pid != nil && !command.isEmpty { throw ValidationError("give -p or a command after --, not both") }
        for probe in probes { _ = try ProbeSpec(parsing: probe) }
        if let filter {
            do { _ = try EventFilter(parsing: filter) } catch { throw ValidationError("--filter: \(error.reason)") }
        }
    }

    func run() async throws {
        let specs = try probes.map { try ProbeSpec(parsing: $0) }
        let capabilities = try requireCapabilities()
        if specs.contains(where: \.isKernel), !capabilities.supports(.kprobe) {
            throw Failure.missing(capabilities.kprobeEvents ? "kprobes allowed (kernel lockdown)" : "kprobe events (CONFIG_KPROBE_EVENTS)")
        }
        if specs.contains(where: { !$0.isKernel }), !capabilities.uprobeEvents {
            throw Failure.missing("uprobe events (CONFIG_UPROBE_EVENTS)")
        }
        var restriction = try processes.pidFilter()
        if let comm { restriction = restriction.map { $0 && EventFilter.field("comm") == .string(comm) } ?? (EventFilter.field("comm") == .string(comm)) }
        if let filter {
            let parsed = try EventFilter(parsing: filter)
            restriction = restriction.map { parsed && $0 } ?? parsed
        }
        Signals.install()
        var child: GatedChild?
        let outcome: Int32? = try await Failure.reporting { () throws -> Int32? in
            try TraceSession.run { session throws -> Int32? in
                var names: Set<String> = []
                for spec in specs {
                    var name = spec.defaultName
                    var suffix = 2
                    while names.contains(name) { name = spec.defaultName + "_\(suffix)"; suffix += 1 }
                    names.insert(name)
                    try spec.create(in: session, as: name)
                }
                let catalog = try session.catalog(otherSystems: ["ftrace"])
                if let restriction {
                    for name in names.sorted() {
                        try session.instance.setFilter(restriction, system: session.group, event: name, catalog: catalog)
                    }
                }
                // Symbols first: /proc/kallsyms takes a moment to read, and no event may wait on it.
                let kernelStack = stacks ? KernelStack() : nil
                if stacks { try session.instance.setOption(.stacktrace, enabled: true) }
                if !command.isEmpty {
                    child = try GatedChild(command)
                    try session.instance.setEventPIDs([child!.pid], followingForks: true)
                }
                try session.enableAll()
                child?.release()
                let follower = Follower(session: session, output: Output(), json: json, limit: count,
                                        duration: processes.duration, probes: specs.count,
                                        watchedPID: processes.pid, childPID: child?.pid, stacks: kernelStack)
                try follower.run(catalog: catalog)
                let status = follower.childStatus.load(ordering: .relaxed)
                return status >= 0 ? status : nil
            }
        }
        if var child {
            let status = outcome ?? child.wait(passing: Signals.received)
            if let signal = Signals.received { throw ExitCode(128 + signal) }
            throw ExitCode(status)
        }
        if let signal = Signals.received { throw ExitCode(128 + signal) }
    }
}
