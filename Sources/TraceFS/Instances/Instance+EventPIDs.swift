import CTraceFS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension Instance {
    /// Makes the instance record events only of the processes (threads) in `pids`
    /// (`set_event_pid`), and, with `followingForks`, of the children they start from now on
    /// (the `event-fork` option: the kernel adds a child's pid when it forks, and removes it when
    /// it exits).
    ///
    /// Unlike a filter, this applies to every event of the instance, costs no filter per event,
    /// and follows new processes, which no filter written beforehand can name. It is how a tool
    /// traces one command it starts: start the command held, list its pid, enable the events,
    /// then let it run.
    ///
    /// ```swift
    /// func traceOnly(_ child: Int32, in session: TraceSession) throws {
    ///     try session.instance.setEventPIDs([child], followingForks: true)
    ///     try session.enableAll()
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - pids: The processes; empty records every process again.
    ///   - followingForks: Whether children are added as they are forked.
    /// - Throws: ``TraceFSError`` when the kernel refuses the write (a pid that is not running
    ///   is refused with `invalidArgument` by some kernels).
    ///
    /// The corresponding C functions are `tracefs_instance_file_write` (on `set_event_pid`) and
    /// `tracefs_option_enable` with `TRACEFS_OPTION_EVENT_FORK`.
    public func setEventPIDs(_ pids: [Int32], followingForks: Bool = false) throws(TraceFSError) {
        let operation = "record only the events of pids \(pids) in the \(description)"
        guard let directory else {
            throw TraceFSError(.outOfMemory, operation: operation, reason: "libtracefs could not name its directory")
        }
        let option = withClearedErrno {
            followingForks ? tracefs_option_enable(pointer, TRACEFS_OPTION_EVENT_FORK)
                : tracefs_option_disable(pointer, TRACEFS_OPTION_EVENT_FORK)
        }
        guard option == 0 else {
            let error = currentErrno()
            throw TraceFSError(.from(errno: error), operation: operation, reason: "the kernel refused the event-fork option",
                               function: followingForks ? "tracefs_option_enable" : "tracefs_option_disable",
                               errno: reportableErrno(error))
        }
        // "" with O_TRUNC clears the list; the kernel reads a list of pids separated by spaces.
        let text = pids.isEmpty ? "" : pids.map(String.init).joined(separator: " ") + "\n"
        let path = directory + "/set_event_pid"
        let error: Int32
        if pids.isEmpty {
            let descriptor = Glibc.open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
            error = descriptor < 0 ? currentErrno() : 0
            if descriptor >= 0 { close(descriptor) }
        } else {
            error = ControlFile.write(path, text)
        }
        guard error == 0 else {
            throw TraceFSError(.from(errno: error), operation: operation, reason: "the kernel refused the write to set_event_pid",
                               function: "write", errno: error)
        }
    }
}
