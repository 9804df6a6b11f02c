import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// The traced command, started with `posix_spawnp`.
struct ChildProcess {
    let pid: Int32

    init(_ arguments: [String]) throws {
        var pid: pid_t = 0
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        let result = posix_spawnp(&pid, arguments[0], nil, nil, argv, environ)
        guard result == 0 else {
            throw TraceFSError(.notFound, operation: "run \(arguments[0])",
                               reason: "it could not be started: \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    /// Waits for the command to exit and returns its exit status. A SIGINT or SIGTERM to us is
    /// passed on to the command, which is then waited for too. It polls rather than blocking in
    /// `waitpid`, because the signal may be delivered to any thread of this process.
    func wait(interruptedBy signals: TerminationSignals) -> Int32 {
        var status: Int32 = 0
        var forwarded = false
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result < 0 && errno != EINTR { return 1 }
            if let signal = signals.received, !forwarded {
                kill(pid, signal)
                forwarded = true
            }
            usleep(10_000)
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot import.
        let termination = status & 0x7F
        return termination == 0 ? (status >> 8) & 0xFF : 128 + termination
    }
}
