import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended.
enum Exit: Equatable, CustomStringConvertible {
    case code(Int32)
    case signal(Int32)

    /// A shell's `$?`: the code, or 128 + the signal.
    var status: Int32 {
        switch self {
        case .code(let code): code
        case .signal(let signal): 128 + signal
        }
    }

    var description: String {
        switch self {
        case .code(let code): "exit \(code)"
        case .signal(let signal): "killed by signal \(signal)"
        }
    }

    init(waitStatus status: Int32) {
        self = (status & 0x7F) == 0 ? .code((status >> 8) & 0xFF) : .signal(status & 0x7F)
    }
}

/// A child process started with `posix_spawn`.
///
/// Not Foundation's `Process`: in the QEMU guest it stopped the test run with "Could not create
/// wakeup socket pair" and hung. The child starts with SIGINT and SIGTERM unblocked and at their
/// default dispositions, whatever the spawning thread has (swift-testing's and libdispatch's
/// worker threads block signals), unless `blockingTermination` asks for them blocked, as a parent
/// that blocks them would pass them on.
final class Child {
    let pid: pid_t
    private var exit: Exit?
    /// The read end of the child's standard output and error when captured.
    private var outputEnd: Int32 = -1

    var processIdentifier: pid_t { pid }

    /// - Parameters:
    ///   - argv0: the child's `argv[0]` (the path when nil).
    ///   - input: written to its standard input, which is then closed (/dev/null when nil).
    ///   - log: a file for its standard output and error; with `captureOutput`, a pipe read by
    ///     ``readOutput(until:)``; otherwise /dev/null.
    init(_ path: String, _ arguments: [String], argv0: String? = nil, input: String? = nil, log: String? = nil,
         captureOutput: Bool = false, blockingTermination: Bool = false) throws
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var inputEnds: [Int32] = [-1, -1]
        var outputEnds: [Int32] = [-1, -1]
        defer { for fd in [inputEnds[0], outputEnds[1]] where fd >= 0 { close(fd) } }
        if input != nil {
            guard pipe(&inputEnds) == 0 else { throw SpawnError(path: path, errno: errno) }
            _ = fcntl(inputEnds[1], F_SETFD, FD_CLOEXEC)
            posix_spawn_file_actions_adddup2(&actions, inputEnds[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        if captureOutput {
            guard pipe(&outputEnds) == 0 else { throw SpawnError(path: path, errno: errno) }
            _ = fcntl(outputEnds[0], F_SETFD, FD_CLOEXEC)
            posix_spawn_file_actions_adddup2(&actions, outputEnds[1], 1)
            posix_spawn_file_actions_adddup2(&actions, outputEnds[1], 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, log ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM] {
            sigaddset(&defaults, signal)
            if blockingTermination { sigaddset(&mask, signal) }
        }
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([argv0 ?? path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard spawned == 0 else {
            for fd in [inputEnds[1], outputEnds[0]] where fd >= 0 { close(fd) }
            throw SpawnError(path: path, errno: spawned)
        }
        self.pid = pid
        outputEnd = outputEnds[0]
        if let input, inputEnds[1] >= 0 {
            // A child that exits without reading must not kill us with SIGPIPE.
            let previous = Glibc.signal(SIGPIPE, SIG_IGN)
            var bytes = Array(input.utf8)[...]
            while !bytes.isEmpty {
                let written = bytes.withUnsafeBytes { write(inputEnds[1], $0.baseAddress, $0.count) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { break }
                bytes = bytes.dropFirst(written)
            }
            Glibc.signal(SIGPIPE, previous)
            close(inputEnds[1])
        }
    }

    deinit {
        if outputEnd >= 0 { close(outputEnd) }
        if exit == nil { kill() }
    }

    /// Reads the captured output until the child closes it or `deadline` passes.
    func readOutput(until deadline: ContinuousClock.Instant) -> String {
        guard outputEnd >= 0 else { return "" }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: outputEnd, events: Int16(POLLIN), revents: 0)
            let ready = Glibc.poll(&poller, 1, 100)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            let count = chunk.withUnsafeMutableBytes { read(outputEnd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += chunk[0..<count]
        }
        close(outputEnd)
        outputEnd = -1
        return String(decoding: bytes, as: UTF8.self)
    }

    /// How the child ended, if it has.
    func poll() -> Exit? {
        if let exit { return exit }
        var status: Int32 = 0
        var result: pid_t
        repeat { result = waitpid(pid, &status, WNOHANG) } while result < 0 && errno == EINTR
        guard result == pid else { return nil }
        exit = Exit(waitStatus: status)
        return exit
    }

    var isRunning: Bool { poll() == nil }

    /// Waits up to `timeout` for the child to end.
    func wait(timeout: Duration) -> Exit? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let exit = poll() { return exit }
            if ContinuousClock.now >= deadline { return nil }
            usleep(5_000)
        }
    }

    func send(_ signal: Int32) {
        if exit == nil { _ = Glibc.kill(pid, signal) }
    }

    /// SIGKILL, and how it ended (it may have ended by itself just before).
    @discardableResult
    func kill() -> Exit {
        send(SIGKILL)
        var status: Int32 = 0
        if exit == nil {
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            exit = Exit(waitStatus: status)
        }
        return exit!
    }
}

struct SpawnError: Error, CustomStringConvertible {
    let path: String
    let errno: Int32
    var description: String { "cannot start \(path): \(String(cString: strerror(errno)))" }
}
