#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Proof that a session's process is alive: an exclusive `flock` on the session's own instance
/// directory in tracefs, held for the session's whole life.
///
/// A pid and a start time identify a process only inside one PID and time namespace: a session in
/// `unshare -p` is pid 1 there, and `unshare -T --boottime` shifts the start time that
/// `/proc/<pid>/stat` shows. A lock does not depend on where it is seen from: tracefs has one
/// superblock, so every mount of it in every namespace reaches the same inode, and the kernel
/// drops the lock when the last descriptor of the holder's open file goes, that is when the
/// process (and any child that inherited the descriptor without `exec`) has died. A reaper that
/// can take the lock has proved the session dead; one that cannot leaves it alone.
final class SessionLock {
    private let descriptor: Int32

    /// The outcome of trying to lock an instance's directory.
    enum Attempt {
        /// Taken: nobody held it. The returned lock keeps it until it is released.
        case taken(SessionLock)
        /// Another open file holds it: its session is alive.
        case held
        /// The directory does not exist (or cannot be opened).
        case missing
    }

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    /// Tries to lock `directory` without waiting. The descriptor is close-on-exec, so a program
    /// the session's process starts does not keep the session alive.
    static func attempt(_ directory: String) -> Attempt {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return .missing }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            if errno == EINTR { continue }
            close(descriptor)
            return .held
        }
        // The directory may have been removed between `open` and `flock` by a reaper that held
        // the lock then: only a lock on what the path still names counts.
        var locked = stat()
        var named = stat()
        guard fstat(descriptor, &locked) == 0, stat(directory, &named) == 0,
              locked.st_ino == named.st_ino, locked.st_dev == named.st_dev else {
            close(descriptor)
            return .missing
        }
        return .taken(SessionLock(descriptor: descriptor))
    }
}

// Sendable: the descriptor never changes; the lock is released once, in deinit.
extension SessionLock: @unchecked Sendable {}
