#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CTraceFS
import Synchronization

/// Where tracefs is mounted.
enum TracingDirectory {
    /// The tracing directory, mounting tracefs first when it is not mounted and we may.
    ///
    /// The corresponding C functions are `tracefs_tracing_dir` and, when that finds nothing,
    /// `tracefs_tracing_dir_is_mounted` with mounting allowed; the result is cached, and whether
    /// this user may enter it is checked on every call.
    static func path(for operation: @autoclosure () -> String) throws(TraceFSError) -> String {
        // Our own cache: libtracefs 1.6.4's tracefs_tracing_dir strdup()s the path again, and leaks
        // the old copy, on every call where this user cannot enter the directory.
        if let known = cache.withLock({ $0 }) {
            if access(known, R_OK | X_OK) == 0 { return known }
            let error = currentErrno()
            guard error == ENOENT else { throw denied(known, error: error, operation: operation()) }
            cache.withLock { $0 = nil }  // unmounted since: look again
        }
        let found = try discover(for: operation())
        cache.withLock { $0 = found }
        guard access(found, R_OK | X_OK) == 0 else {
            throw denied(found, error: currentErrno(), operation: operation())
        }
        return found
    }

    private static let cache = Mutex<String?>(nil)

    private static func denied(_ path: String, error: Int32, operation: String) -> TraceFSError {
        TraceFSError(
            .permissionDenied, operation: operation,
            reason: "this user cannot read \(path); run as root (or with CAP_SYS_ADMIN and access to the "
                + "tracing directory)",
            function: "access", errno: reportableErrno(error))
    }

    private static func discover(for operation: @autoclosure () -> String) throws(TraceFSError) -> String {
        if let found = tracefs_tracing_dir() {
            return String(cString: found)
        }
        var path: UnsafePointer<CChar>?
        let result = withClearedErrno { tracefs_tracing_dir_is_mounted(true, &path) }
        guard result >= 0, let path else {
            let error = currentErrno()
            guard isMounted else {
                throw TraceFSError(
                    .notMounted, operation: operation(),
                    reason: "tracefs is not mounted and could not be mounted (that needs root with CAP_SYS_ADMIN); "
                        + "as root run 'mount -t tracefs nodev /sys/kernel/tracing'",
                    function: "tracefs_tracing_dir_is_mounted", errno: reportableErrno(error))
            }
            throw TraceFSError(
                .permissionDenied, operation: operation(),
                reason: "tracefs is mounted but this user cannot use it; run as root (or with CAP_SYS_ADMIN and "
                    + "access to /sys/kernel/tracing)",
                function: "tracefs_tracing_dir_is_mounted", errno: reportableErrno(error))
        }
        return String(cString: path)
    }

    /// Whether this mount namespace has tracefs mounted anywhere.
    static var isMounted: Bool {
        (KernelFile.read("/proc/self/mounts") ?? "").split(separator: "\n").contains { line in
            line.split(separator: " ").dropFirst(2).first == "tracefs"
        }
    }
}
