#if canImport(Glibc)
import Glibc
#endif

/// A one-way gate between threads: `wait()` returns once `open()` has been called.
// Sendable: the semaphore is only used through sem_post/sem_wait, which are thread-safe.
final class Gate: @unchecked Sendable {
    private let semaphore = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

    init() { sem_init(semaphore, 0, 0) }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    func open() { sem_post(semaphore) }

    func wait() {
        while sem_wait(semaphore) != 0 && errno == EINTR {}
    }
}
