import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A thread of its own that reports its kernel pid, waits for `go`, then opens /etc/hostname
/// `count` times: calls a pid filter can single out.
final class OpenerThread: Sendable {
    let count: Int
    private let threadID = Atomic<Int32>(0)
    private let released = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)

    init(count: Int) {
        self.count = count
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { context in
            let opener = Unmanaged<OpenerThread>.fromOpaque(context!).takeRetainedValue()
            opener.run()
            return nil
        }, context)
        pthread_detach(thread)
    }

    private func run() {
        threadID.store(currentThreadID(), ordering: .releasing)
        while !released.load(ordering: .acquiring) { usleep(1000) }
        for _ in 0..<count {
            let descriptor = open("/etc/hostname", O_RDONLY)
            if descriptor >= 0 { close(descriptor) }
        }
        finished.store(true, ordering: .releasing)
    }

    /// The thread's kernel pid, once it runs.
    var pid: Int32 {
        while threadID.load(ordering: .acquiring) == 0 { usleep(1000) }
        return threadID.load(ordering: .acquiring)
    }

    /// Lets it open its files and waits until it has.
    func openAndWait() {
        released.store(true, ordering: .releasing)
        while !finished.load(ordering: .acquiring) { usleep(1000) }
    }
}
