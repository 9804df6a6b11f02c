#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A value behind a `pthread_mutex_t`: `Mutex` with waits that ThreadSanitizer understands.
///
/// Swift's `Mutex` waits on a futex that ThreadSanitizer (Swift 6.3, Linux) does not model, so it
/// reports a race between two sections that the `Mutex` does serialise; `make check` fails on such
/// reports. Locks that several threads contend for in the tests use this one instead, as do the
/// package's own tools (`@_spi(Tools)`: not part of the library's API).
@_spi(Tools)
public final class PthreadMutex<Value> {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with the value while no other thread holds the lock. Not reentrant.
    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

// Sendable: `value` is only reached inside `withLock`, under the mutex, and only Sendable values
// are shared this way.
extension PthreadMutex: @unchecked Sendable where Value: Sendable {}
