import CTraceFS
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads an instance's records with a Swift closure: one bounded pass over what the buffers held
/// when it began, or passes until stopped (follow mode).
///
/// It reads each CPU's `trace_pipe_raw` a sub-buffer at a time and walks the pages itself
/// (``PageCursor``), merged by time stamp or CPU by CPU; ``RecordOrder/libtracefsIterate`` drives
/// `tracefs_iterate_raw_events` instead. Each record is a ``Record`` on the stack: reading
/// allocates nothing per record.
@usableFromInline
final class RecordReader {
    let catalog: EventCatalog
    let instance: Instance
    @usableFromInline let stopRequested: Atomic<Bool>
    /// A pipe whose read end becomes readable once a stop is requested: a follower polls it with
    /// the buffers' files, so that a stop wakes it at once.
    private let wakeUp: Int32
    var wakeUpDescriptor: Int32 { wakeUp }
    private let wakeUpWriter: Int32
    /// Held by a stream's reader thread while its consumer is behind; a stop releases it.
    let credits: StreamCredits?

    @usableFromInline
    init(catalog: EventCatalog, instance: Instance, credits: StreamCredits? = nil) {
        self.catalog = catalog
        self.instance = instance
        self.credits = credits
        stopRequested = Atomic(false)
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
                _ = fcntl(end, F_SETFL, O_NONBLOCK)
            }
        }
        (wakeUp, wakeUpWriter) = (ends[0], ends[1])
    }

    deinit {
        if wakeUp >= 0 { close(wakeUp) }
        if wakeUpWriter >= 0 { close(wakeUpWriter) }
    }

    /// Reads until the buffers are empty (`follow` false: at most what they held when the read
    /// began) or until `body` stops, ``requestStop()`` is called, or `body` throws. `afterPass` runs
    /// each time a pass has ended. Returns how many records `body` was given.
    @discardableResult @usableFromInline
    func read(follow: Bool, order: RecordOrder, pollInterval: Duration, afterPass: () -> Void = {},
              _ body: (borrowing Record) throws -> IterationAction) throws -> Int {
        if order == .libtracefsIterate {
            return try readWithLibtracefs(follow: follow, pollInterval: pollInterval, afterPass: afterPass, body)
        }
        var walk = try PageWalk(reader: self, follow: follow, order: order, pollInterval: pollInterval)
        return try walk.deliverAll(afterPass: afterPass, body)
    }

    /// Ends a read in progress from any thread: the current record is the last.
    ///
    /// The corresponding C function is `tracefs_iterate_stop` (for ``RecordOrder/libtracefsIterate``).
    func requestStop() {
        stopRequested.store(true, ordering: .releasing)
        instance.withDescriptor { tracefs_iterate_stop($0) }
        var one: UInt8 = 1
        _ = write(wakeUpWriter, &one, 1)
        credits?.release()
    }

    static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        return Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    /// The old path: `tracefs_iterate_raw_events` in passes, `pollInterval` apart when following.
    private func readWithLibtracefs(follow: Bool, pollInterval: Duration, afterPass: () -> Void,
                                    _ body: RecordCallback.Body) throws -> Int {
        try withoutActuallyEscaping(body) { body in
            let callback = RecordCallback(reader: self, body: body)
            return try withExtendedLifetime(callback) {
                let context = Unmanaged.passUnretained(callback).toOpaque()
                repeat {
                    catalog.allowCommandReload()
                    let result = instance.withDescriptor { descriptor in
                        withClearedErrno {
                            catalog.withHandle { tracefs_iterate_raw_events($0, descriptor, nil, 0, RecordCallback.function, context) }
                        }
                    }
                    if let failure = callback.failure { throw failure }
                    if result < 0 && !callback.stopped && !stopRequested.load(ordering: .acquiring) {
                        let error = currentErrno()
                        throw TraceFSError(.from(errno: error), operation: "read the records of the \(instance)",
                                           reason: "libtracefs could not read the ring buffer (trace_pipe_raw)",
                                           function: "tracefs_iterate_raw_events", errno: reportableErrno(error))
                    }
                    afterPass()
                    if callback.stopped || stopRequested.load(ordering: .acquiring) { break }
                    if follow {
                        var descriptor = pollfd(fd: wakeUp, events: Int16(POLLIN), revents: 0)
                        _ = poll(&descriptor, 1, Self.milliseconds(pollInterval))
                    }
                } while follow
                return callback.delivered
            }
        }
    }
}

// Sendable: `stopRequested` is atomic, `requestStop()` only touches it, libtracefs's own stop flag,
// the eventfd (a write is atomic) and the credits (a semaphore); everything else is constant or used
// by the one thread that runs `read`.
extension RecordReader: @unchecked Sendable {}
