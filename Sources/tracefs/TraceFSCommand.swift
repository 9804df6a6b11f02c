import ArgumentParser
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// The `tracefs` command: the library's probes, filters, histograms and synthetic events from a
/// shell, with bcc's and trace_pipe's output conventions.
struct TraceFSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tracefs",
        abstract: "Trace and count kernel and user-space functions through tracefs.",
        discussion: """
            Everything a subcommand creates (probes, trace instance, triggers, synthetic events) lives in \
            its own session, named swtf_<pid>_<start time>_<n>, and is removed when it ends: normally, on \
            an error, on Ctrl-C (SIGINT) and on SIGTERM. After a SIGKILL, 'tracefs reap' removes it.

            Start with 'tracefs doctor' to see what this kernel supports.

            When standard error is a terminal, trace, funccount and funclatency keep a status line on it \
            (probes armed, events seen, lost events), rewritten about once a second and erased before \
            output and at the end; piped, nothing but the output is written.

            Exit status: 0 on success; 1 when the kernel refuses or lacks a feature (the message says \
            which, and what to do); 64 for a usage error; 130 or 143 when ended by SIGINT or SIGTERM \
            (after printing what was counted); with '-- COMMAND', the command's own status.
            """,
        subcommands: [Doctor.self, List.self, Reap.self, Trace.self, FuncCount.self, FuncLatency.self,
                      Hist.self, SQL.self])
}

/// The program's entry: a command started by `tracefs trace -- COMMAND` first waits, as
/// `GatedChild` runs it, for its events to be enabled; everything else is the command line.
@main
enum Entry {
    static func main() async {
        GatedChild.execIfGated()
        let arguments = Array(CommandLine.arguments.dropFirst())
        await TraceFSCommand.main(arguments.firstIndex(of: "--").map { Array(arguments[..<$0]) } ?? arguments)
    }

    /// The words after the first `--`: the command `tracefs trace` runs. ArgumentParser cannot
    /// take them as a second list of positional arguments after the probes, so they are split off
    /// before parsing.
    static var command: [String] {
        let arguments = Array(CommandLine.arguments.dropFirst())
        return arguments.firstIndex(of: "--").map { Array(arguments[($0 + 1)...]) } ?? []
    }
}

/// A failure that has been reported on standard error already, ending the program with its
/// status. Kernel refusals exit 1.
enum Failure {
    /// Reports `error` in one line, with a pointer to `tracefs doctor` when a feature is missing,
    /// and returns the exit code to throw.
    static func report(_ error: any Error) -> any Error {
        guard let error = error as? TraceFSError else { return error }
        var line = "tracefs: \(error)"
        if [.unsupported, .notMounted, .lockedDown, .permissionDenied].contains(error.code) {
            line += "; run 'tracefs doctor'"
        }
        printError(line)
        return ExitCode(1)
    }

    /// Reports a missing kernel feature and returns the exit code to throw.
    static func missing(_ feature: String) -> ExitCode {
        printError("tracefs: this kernel has no \(feature); run 'tracefs doctor'")
        return ExitCode(1)
    }

    /// Runs `body`, turning a ``TraceFSError`` into its one-line report and exit status 1.
    static func reporting<Result>(_ body: () async throws -> Result) async throws -> Result {
        do { return try await body() } catch { throw report(error) }
    }
}

/// The kernel's capabilities, or the one-line reason why tracefs cannot be used here.
func requireCapabilities() throws -> TracingCapabilities {
    do { return try TracingCapabilities.current() } catch { throw Failure.report(error) }
}

/// Writes a line to standard error (through the descriptor: the C `stderr` global is not
/// concurrency-safe in Swift 6).
func printError(_ text: String) {
    writeAll(STDERR_FILENO, text + "\n")
}

/// Writes all of `text` to `descriptor`, retrying short writes.
func writeAll(_ descriptor: Int32, _ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        bytes = bytes.dropFirst(written)
    }
}
