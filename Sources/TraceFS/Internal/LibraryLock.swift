import Synchronization

/// Serializes what libtracefs does not protect itself: `tracefs_kprobe_raw` and
/// `tracefs_kretprobe_raw` keep static state, and the kernel's `error_log` is one shared file, so a
/// failure can only be matched with its own log entry when no other call of this process writes a
/// control file between the write and the read. Every call that changes the kernel's dynamic events
/// runs inside this lock. It is not reentrant: never call one locked function from another.
enum LibraryLock {
    private static let mutex = Mutex(())

    static func withLock<Result, Failure: Error>(
        _ body: () throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try mutex.withLock { _ throws(Failure) in try body() }
    }
}
