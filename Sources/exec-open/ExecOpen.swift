import ArgumentParser
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// The libtracefs kprobe man page's example in Swift: run a command and print every file it opens
/// and what each open returned, from a kprobe and a kretprobe on `do_sys_openat2`.
@main
struct ExecOpen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec-open",
        abstract: "Run a command and print every open it makes, traced with kprobes on do_sys_openat2.",
        discussion: """
            Creates my_kprobes/open and my_kprobes/openret in a trace instance named exec_open, runs the \
            command, and prints '<pid>-<comm>: open file=...' and '<pid>-<comm>: open ret=...' lines. It removes \
            its probes and instance when done, on errors, and on SIGINT or SIGTERM. Needs root and a kernel \
            with kprobe events.
            """)

    @Flag(help: "Show the opens of every process, not only the command's.")
    var allProcesses = false

    @Argument(parsing: .captureForPassthrough, help: "The command to run, and its arguments.")
    var command: [String]

    func run() throws {
        guard !command.isEmpty else { throw ValidationError("Give a command to run, such as: exec-open /bin/cat /etc/hostname") }
        let capabilities = try TracingCapabilities.current()
        guard capabilities.kprobeEvents else {
            printError("exec-open: this kernel has no kprobe events (CONFIG_KPROBE_EVENTS); run it on a kernel with them, "
                + "for example with 'make demo', which uses a QEMU guest")
            throw ExitCode(2)
        }
        let signals = TerminationSignals()
        var childStatus: Int32 = 0
        try TraceSession.run(group: "my_kprobes", instanceName: "exec_open") { session in
            try session.kprobe("open", address: "do_sys_openat2",
                               format: "file=+0($arg2):ustring flags=+0($arg3):x64 mode=+8($arg3):x64")
            // $retval, not the x86-only %ax of the C example.
            try session.kretprobe("openret", address: "do_sys_openat2", format: "ret=$retval:s64")
            let catalog = try session.catalog()
            try session.enableAll()

            let child = try ChildProcess(command)
            childStatus = child.wait(interruptedBy: signals)
            try session.instance.setTracing(on: false)

            try session.instance.readRecords(using: catalog) { record in
                guard allProcesses || record.pid == child.pid else { return .continue }
                let who = "\(record.pid)-\(record.command ?? "<...>")"
                switch record.format.name {
                case "open": print("\(who): open file='\(record.string("file") ?? "")'")
                case "openret": print("\(who): open ret=\(record.signed("ret") ?? 0)")
                default: break
                }
                return .continue
            }
        }
        if let signal = signals.received {
            throw ExitCode(128 + signal)
        }
        throw ExitCode(childStatus)
    }
}

/// Writes a line to standard error (through the descriptor: the C `stderr` global is not
/// concurrency-safe in Swift 6).
func printError(_ text: String) {
    let line = text + "\n"
    _ = line.withCString { write(STDERR_FILENO, $0, strlen($0)) }
}
