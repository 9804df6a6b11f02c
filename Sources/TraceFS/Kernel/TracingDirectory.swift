#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CTraceFS

/// Where tracefs is mounted.
enum TracingDirectory {
    /// The tracing directory, mounting tracefs first when it is not mounted and we may.
    ///
    /// The corresponding C functions are `tracefs_tracing_dir` (cached by libtracefs, so this is
    /// cheap on every call) and, when that finds nothing, `tracefs_tracing_dir_is_mounted` with
    /// mounting allowed.
    static func path(for operation: @autoclosure () -> String) throws(TraceFSError) -> String {
        if let found = tracefs_tracing_dir() {
            return String(cString: found)
        }
        var path: UnsafePointer<CChar>?
        let result = withClearedErrno { tracefs_tracing_dir_is_mounted(true, &path) }
        guard result >= 0, let path else {
            let error = currentErrno()
            let denied = error == EPERM || error == EACCES || geteuid() != 0
            throw TraceFSError(
                denied ? .permissionDenied : .notMounted,
                operation: operation(),
                reason: denied
                    ? "tracefs is not mounted or not readable by this user; run as root (or with CAP_SYS_ADMIN and "
                        + "access to /sys/kernel/tracing)"
                    : "tracefs is not mounted and could not be mounted; as root run "
                        + "'mount -t tracefs nodev /sys/kernel/tracing'",
                function: "tracefs_tracing_dir_is_mounted",
                errno: reportableErrno(error)
            )
        }
        return String(cString: path)
    }
}
