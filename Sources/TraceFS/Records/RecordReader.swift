import CTraceFS
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Drives `tracefs_iterate_raw_events` with a Swift closure: one pass over what the instance's
/// buffers hold now, or passes until stopped (follow mode). Each record goes through a
/// ``RecordCallback``, which builds a ``Record`` on the stack, so reading allocates nothing per record.
final class RecordReader {
    let catalog: EventCatalog
    let instance: Instance
    let stopRequested: Atomic<Bool>
    /// Wakes a follower that waits for the buffers to fill, so that a stop takes effect at once.
    private let wakeUp = DispatchSemaphore(value: 0)

    init(catalog: EventCatalog, instance: Instance) {
        self.catalog = catalog
        self.instance = instance
        stopRequested = Atomic(false)
    }

    /// Reads until the buffers are empty (`follow` false) or until `body` stops, ``requestStop()``
    /// is called, or `body` throws. `afterPass` runs each time the buffers have been read empty.
    func read(follow: Bool, pollInterval: Duration, afterPass: () -> Void = {}, _ body: RecordCallback.Body) throws {
        try withoutActuallyEscaping(body) { body in
            let callback = RecordCallback(reader: self, body: body)
            try withExtendedLifetime(callback) {
                let context = Unmanaged.passUnretained(callback).toOpaque()
                repeat {
                    catalog.allowCommandReload()
                    let result = instance.withDescriptor { descriptor in
                        withClearedErrno {
                            catalog.withHandle { tracefs_iterate_raw_events($0, descriptor, nil, 0, RecordCallback.function, context) }
                        }
                    }
                    if let failure = callback.failure { throw failure }
                    if result < 0 && !callback.stopped {
                        let error = currentErrno()
                        throw TraceFSError(.from(errno: error), operation: "read the records of the \(instance)",
                                           reason: "libtracefs could not read the ring buffer (trace_pipe_raw)",
                                           function: "tracefs_iterate_raw_events", errno: reportableErrno(error))
                    }
                    afterPass()
                    if callback.stopped || stopRequested.load(ordering: .acquiring) { break }
                    if follow { sleep(for: pollInterval) }
                } while follow
            }
        }
    }

    /// Ends a read in progress from any thread: the current record is the last.
    ///
    /// The corresponding C function is `tracefs_iterate_stop`.
    func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        instance.withDescriptor { tracefs_iterate_stop($0) }
        wakeUp.signal()
    }

    /// Waits `duration`, or less when a stop is requested.
    private func sleep(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        _ = wakeUp.wait(timeout: .now() + .nanoseconds(nanoseconds))
    }
}

// Sendable: `stopRequested` is atomic and `requestStop()` only touches it and libtracefs's own stop
// flag; everything else is constant or used by the one thread that runs `read`.
extension RecordReader: @unchecked Sendable {}
