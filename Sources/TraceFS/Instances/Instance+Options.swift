import CTraceFS

/// One of an instance's trace options, the files of its `options/` directory (`stacktrace`,
/// `sym-offset`, `event-fork`...).
///
/// A name rather than a closed enum: the kernel adds options (and tracers add their own), and
/// libtracefs 1.6.4's `enum tracefs_option_id` knows a fixed list of them; ``Instance/setOption(_:enabled:)``
/// refuses a name that list lacks.
public struct TraceOption: Hashable, Sendable, CustomStringConvertible {
    /// The option's file name in `options/`.
    public let name: String

    public init(_ name: String) { self.name = name }

    /// After each event, the kernel stack that led to it, as an `ftrace/kernel_stack` record
    /// (`TRACEFS_OPTION_STACKTRACE`). For a kprobe, the stack starts at the probed instruction.
    public static let stacktrace = TraceOption("stacktrace")
    /// After each event, the user-space stack of the task, as an `ftrace/user_stack` record
    /// (`TRACEFS_OPTION_USERSTACKTRACE`).
    public static let userStacktrace = TraceOption("userstacktrace")
    /// Children of traced pids are traced too (`TRACEFS_OPTION_EVENT_FORK`).
    public static let eventFork = TraceOption("event-fork")
    /// Thread group ids are saved for `saved_tgids` (`TRACEFS_OPTION_RECORD_TGID`).
    public static let recordTGID = TraceOption("record-tgid")

    public var description: String { name }
}

extension Instance {
    /// Switches a trace option of this instance on or off (its `options/NAME` file).
    ///
    /// - Throws: ``TraceFSError``: `invalidArgument` for a name libtracefs does not know,
    ///   `unsupported` when this kernel has no such option, or the kernel's refusal.
    ///
    /// The corresponding C functions are `tracefs_option_enable` and `tracefs_option_disable`.
    public func setOption(_ option: TraceOption, enabled: Bool) throws(TraceFSError) {
        let operation = "turn the \(ProbeInput.display(option.name)) option \(enabled ? "on" : "off") in the \(description)"
        let id = try optionID(option, operation: operation)
        let result = withClearedErrno { enabled ? tracefs_option_enable(pointer, id) : tracefs_option_disable(pointer, id) }
        guard result == 0 else {
            let error = currentErrno()
            throw TraceFSError(.from(errno: error), operation: operation, reason: "the kernel refused",
                               function: enabled ? "tracefs_option_enable" : "tracefs_option_disable",
                               errno: reportableErrno(error))
        }
    }

    /// Whether a trace option of this instance is on.
    ///
    /// - Throws: ``TraceFSError`` as ``setOption(_:enabled:)`` does.
    ///
    /// The corresponding C function is `tracefs_option_is_enabled`.
    public func isOptionEnabled(_ option: TraceOption) throws(TraceFSError) -> Bool {
        let id = try optionID(option, operation: "read the \(ProbeInput.display(option.name)) option of the \(description)")
        return tracefs_option_is_enabled(pointer, id)
    }

    private func optionID(_ option: TraceOption, operation: String) throws(TraceFSError) -> tracefs_option_id {
        let id = tracefs_option_id(option.name)
        guard id != TRACEFS_OPTION_INVALID else {
            throw TraceFSError(.invalidArgument, operation: operation,
                               reason: "libtracefs knows no trace option of that name; give one such as 'stacktrace'",
                               function: "tracefs_option_id")
        }
        guard tracefs_option_is_supported(pointer, id) else {
            throw TraceFSError(.unsupported, operation: operation,
                               reason: "this kernel has no such option (no options/\(option.name) file)",
                               function: "tracefs_option_is_supported")
        }
        return id
    }
}
