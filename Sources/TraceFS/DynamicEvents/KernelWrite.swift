import CTraceFS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One call that writes a dynamic-event definition to the kernel, and the error that explains its
/// failure.
///
/// ``perform(_:operation:kinds:subject:command:absentIsSuccess:_:)`` runs the C call inside
/// ``LibraryLock``; on failure it reads errno first, then the kernel's `error_log` entry for exactly
/// the definition that was written, if there is one. The error names lockdown or the missing kernel
/// feature when those are the cause, whatever errno the C call reported (libtracefs 1.6.4 reports
/// EINVAL for a kprobe on a kernel without kprobe events, and ENOENT under lockdown, where tracefs
/// hides `dynamic_events`). The texts that describe the write are built only when it fails, so a
/// successful write costs what the C call costs.
struct KernelWrite {
    let operation: String
    let kinds: [DynamicEvent.Kind]
    /// "system/event", for messages.
    let subject: String
    /// The definition line written, as the kernel logs it with a failure; `nil` for removals.
    let command: String?

    /// Runs `call`, which gets the tracing directory, and turns its failure into a ``TraceFSError``.
    ///
    /// - Parameters:
    ///   - absentIsSuccess: Treat "no such event" as success (destroying what is already gone).
    ///   - refuse: Checked inside the lock before `call`, with the tracing directory: an error to
    ///     throw instead of writing (an event of that name exists already).
    static func perform(
        _ function: String, operation: @autoclosure () -> String, kinds: DynamicEvent.Kinds,
        subject: @autoclosure () -> String, command: @autoclosure () -> String?, absentIsSuccess: Bool = false,
        refuse: (_ tracingDirectory: String) -> TraceFSError? = { _ in nil },
        _ call: (_ tracingDirectory: String) -> Int32
    ) throws(TraceFSError) {
        try LibraryLock.withLock { () throws(TraceFSError) in
            let directory = try TracingDirectory.path(for: operation())
            if let refusal = refuse(directory) { throw refusal }
            let result = withClearedErrno { call(directory) }
            guard result >= 0 else {
                let error = currentErrno()
                let write = KernelWrite(operation: operation(), kinds: DynamicEvent.Kind.allCases.filter {
                    kinds.contains(DynamicEvent.Kinds($0))
                }, subject: subject(), command: command())
                if absentIsSuccess && (error == ENOENT || !write.kinds.contains(where: { write.supported($0, directory) })) {
                    return
                }
                let message = write.command.flatMap { KernelErrorLog(tracingDirectory: directory).message(about: $0) }
                throw write.failure(function: function, errno: error, kernelMessage: message, directory: directory)
            }
        }
    }

    private func supported(_ kind: DynamicEvent.Kind, _ directory: String) -> Bool {
        TracingCapabilities.kernelSupports(kind, in: directory)
    }

    func failure(function: String, errno error: Int32, kernelMessage: String?, directory: String) -> TraceFSError {
        let lockdown = KernelLockdown.current
        if lockdown.forbidsTracing {
            return TraceFSError(
                .lockedDown, operation: operation,
                reason: "kernel lockdown (\(lockdown.rawValue)) forbids \(kindsText) and hides tracefs's control "
                    + "files; boot without 'lockdown=\(lockdown.rawValue)' (or without Secure Boot lockdown)",
                function: function, errno: reportableErrno(error), kernelMessage: kernelMessage)
        }
        if let missing = kinds.first(where: { !supported($0, directory) }) {
            return TraceFSError(
                .unsupported, operation: operation,
                reason: "this kernel has no \(missing.kernelFeature); use a kernel built with it",
                function: function, errno: reportableErrno(error), kernelMessage: kernelMessage)
        }
        let code = TraceFSError.Code.from(errno: error)
        return TraceFSError(code, operation: operation, reason: reason(for: code, directory: directory),
                            function: function, errno: reportableErrno(error), kernelMessage: kernelMessage)
    }

    private var kindsText: String {
        kinds.map { "\($0)s" }.joined(separator: " and ")
    }

    private func reason(for code: TraceFSError.Code, directory: String) -> String {
        switch code {
        case .permissionDenied:
            "writing \(directory)/dynamic_events needs root (CAP_SYS_ADMIN); run as root"
        case .alreadyExists:
            "an event named \(subject) already exists; choose another name or destroy that event first"
        case .busy:
            "\(subject) is enabled or in use; disable it first, or destroy it with force: true"
        case .notFound:
            kinds.contains(where: { $0 == .kprobe || $0 == .kretprobe })
                ? "the kernel has no such symbol or event; check the symbol in /proc/kallsyms "
                    + "(static and inlined functions may not be probeable)"
                : "the kernel found no such file, event or group"
        case .invalidArgument:
            "the kernel rejected the definition; check the address, offset and fetch arguments against "
                + "the kernel's probe syntax (\(directory)/README)"
        case .outOfMemory:
            "the kernel ran out of memory"
        default:
            "the kernel refused the request"
        }
    }
}
