import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// A command that `tracefs` starts held: it is this same program, started with a gate argument,
/// blocked reading a pipe until the tracer has listed its pid and enabled the events; then it
/// `execvp`s the command, keeping its pid. So the command's first instruction is traced, and
/// only it and its children are (`set_event_pid` with `event-fork`).
struct GatedChild {
    static let gateArgument = "--swtf-gated-exec"
    /// The descriptor the child reads its go-ahead from.
    static let gateDescriptor: Int32 = 3

    let pid: Int32
    private let gateWriter: Int32
    private var reaped: Int32?

    /// Starts `command` held.
    init(_ command: [String]) throws {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            throw TraceFSError(.failed, operation: "run \(command[0])", reason: "no pipe: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        defer { close(ends[0]) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, ends[0], Self.gateDescriptor)
        // The command starts with default SIGINT/SIGTERM and nothing blocked, whatever we set.
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
        let arguments = ["/proc/self/exe", Self.gateArgument] + command
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/proc/self/exe", &actions, &attributes, argv, environ)
        guard result == 0 else {
            close(ends[1])
            throw TraceFSError(.failed, operation: "run \(command[0])", reason: "it could not be started: \(String(cString: strerror(result)))")
        }
        self.pid = pid
        gateWriter = ends[1]
    }

    /// Lets the command run.
    func release() {
        var go: UInt8 = 1
        _ = write(gateWriter, &go, 1)
        close(gateWriter)
    }

    /// The command's exit status (128 + signal when killed), once it has exited; `nil` while it runs.
    mutating func poll() -> Int32? {
        if let reaped { return reaped }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        reaped = Self.exitStatus(status)
        return reaped
    }

    /// Waits for the command, sending it `signal` first if given, and SIGKILL if it has not ended after 5 s.
    mutating func wait(passing signal: Int32?) -> Int32 {
        if let reaped { return reaped }
        if let signal { kill(pid, signal) }
        let end = monotonicSeconds() + 5
        while true {
            if let status = poll() { return status }
            if signal != nil && monotonicSeconds() > end { kill(pid, SIGKILL) }
            usleep(10_000)
        }
    }

    // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot import.
    private static func exitStatus(_ status: Int32) -> Int32 {
        let termination = status & 0x7F
        return termination == 0 ? (status >> 8) & 0xFF : 128 + termination
    }

    /// In the held child: waits for the go-ahead, then becomes the command. Returns at once in
    /// any other process.
    static func execIfGated() {
        let arguments = CommandLine.arguments
        guard arguments.count >= 3, arguments[1] == gateArgument else { return }
        var go: UInt8 = 0
        while read(gateDescriptor, &go, 1) < 0 && errno == EINTR {}
        // An EOF (the tracer died before enabling anything) ends the child without running the command.
        guard go == 1 else { exit(127) }
        close(gateDescriptor)
        let command = Array(arguments.dropFirst(2))
        let argv = command.map { strdup($0) } + [nil]
        execvp(command[0], argv)
        printError("tracefs: cannot run \(command[0]): \(String(cString: strerror(errno)))")
        exit(127)
    }
}
