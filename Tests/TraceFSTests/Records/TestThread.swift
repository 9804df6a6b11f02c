#if canImport(Glibc)
import Glibc
#endif

/// A joinable thread for tests that need real parallel writers.
// Sendable: `handle` is written by pthread_create before `start` returns and only read by `join`;
// `body` is a constant.
final class TestThread: @unchecked Sendable {
    private var handle = pthread_t()
    private let body: @Sendable () -> Void

    private init(_ body: @escaping @Sendable () -> Void) { self.body = body }

    static func start(_ body: @escaping @Sendable () -> Void) -> TestThread {
        let thread = TestThread(body)
        let context = Unmanaged.passRetained(thread).toOpaque()
        pthread_create(&thread.handle, nil, { context in
            let thread = Unmanaged<TestThread>.fromOpaque(context!).takeRetainedValue()
            thread.body()
            return nil
        }, context)
        return thread
    }

    func join() { pthread_join(handle, nil) }
}
