import CTraceFS
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Drives `tracefs_iterate_raw_events` with a Swift closure: one pass over what the instance's
/// buffers hold now, or passes until stopped (follow mode).
///
/// The C callback reaches its state through an unretained pointer to this object, which lives for
/// the whole call. Per record it builds a ``Record`` on the stack and looks the event's format up
/// in a one-entry cache before the catalog's table, so reading allocates nothing per record.
final class RecordReader {
    typealias Body = (borrowing Record) throws -> IterationAction

    let catalog: EventCatalog
    let instance: Instance
    let stopRequested: Atomic<Bool>
    /// Wakes a follower that waits for the buffers to fill, so that a stop takes effect at once.
    private let wakeUp = DispatchSemaphore(value: 0)
    private var body: Body?
    private var failure: (any Error)?
    private var stopped = false
    private var lastEvent: UnsafeMutablePointer<tep_event>?
    private var lastFormat: EventFormat?

    init(catalog: EventCatalog, instance: Instance) {
        self.catalog = catalog
        self.instance = instance
        stopRequested = Atomic(false)
    }

    /// Reads until the buffers are empty (`follow` false) or until `body` stops, ``requestStop()``
    /// is called, or `body` throws. `afterPass` runs each time the buffers have been read empty.
    func read(follow: Bool, pollInterval: Duration, afterPass: () -> Void = {}, _ body: Body) throws {
        try withoutActuallyEscaping(body) { body in
            self.body = body
            defer { self.body = nil }
            let context = Unmanaged.passUnretained(self).toOpaque()
            repeat {
                catalog.allowCommandReload()
                let result = instance.withDescriptor { descriptor in
                    withClearedErrno {
                        tracefs_iterate_raw_events(catalog.handle, descriptor, nil, 0, recordCallback, context)
                    }
                }
                if let failure { throw failure }
                if result < 0 && !stopped {
                    let error = currentErrno()
                    throw TraceFSError(.from(errno: error), operation: "read the records of the \(instance)",
                                       reason: "libtracefs could not read the ring buffer (trace_pipe_raw)",
                                       function: "tracefs_iterate_raw_events", errno: reportableErrno(error))
                }
                afterPass()
                if stopped || stopRequested.load(ordering: .acquiring) { break }
                if follow { sleep(for: pollInterval) }
            } while follow
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

    /// One record, from the C callback. Returns non-zero to stop libtracefs's iteration.
    fileprivate func handle(_ event: UnsafeMutablePointer<tep_event>?, _ record: UnsafeMutablePointer<tep_record>?, cpu: Int32) -> Int32 {
        guard let body, let event, let record else { return 0 }
        if stopRequested.load(ordering: .relaxed) {
            stopped = true
            return 1
        }
        let format: EventFormat
        if event == lastEvent, let lastFormat {
            format = lastFormat
        } else {
            format = catalog.format(for: event)
            lastEvent = event
            lastFormat = format
        }
        do {
            let view = Record(format: format, record: record, cpu: cpu, catalog: catalog)
            if try body(view) == .stop {
                stopped = true
                return 1
            }
            return 0
        } catch {
            failure = error
            stopped = true
            return 1
        }
    }

    /// Waits `duration`, or less when a stop is requested.
    private func sleep(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        _ = wakeUp.wait(timeout: .now() + .nanoseconds(nanoseconds))
    }
}

// Sendable: `stopRequested` is atomic and `requestStop()` only touches it and libtracefs's own stop
// flag; everything else is used by the one thread that runs `read`.
extension RecordReader: @unchecked Sendable {}

private let recordCallback: @convention(c) (
    UnsafeMutablePointer<tep_event>?, UnsafeMutablePointer<tep_record>?, Int32, UnsafeMutableRawPointer?
) -> Int32 = { event, record, cpu, context in
    guard let context else { return 1 }
    return Unmanaged<RecordReader>.fromOpaque(context).takeUnretainedValue().handle(event, record, cpu: cpu)
}
