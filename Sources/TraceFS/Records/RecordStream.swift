import Dispatch

/// The records of an instance as they arrive, for `for try await`.
///
/// Each iteration starts a reader on a thread of its own that follows the instance's buffers
/// (each CPU's `trace_pipe_raw`, merged by time stamp) and hands records over in batches. At most
/// ``maximumBatchesAhead`` batches wait for the consumer: when it falls further behind, the reader
/// stops reading, the kernel's buffers fill and drop events, and the next record after a gap says
/// how many in ``TraceRecord/lostEventsBefore``. Memory stays bounded however slow the loop. The reader stops when
/// the consuming task is cancelled, when the loop is left, or when the iterator goes away; the
/// sequence then ends without an error. Leaving the loop waits until the reader has stopped, so no
/// record is taken from the kernel after the loop; records the reader had already taken but the
/// loop did not reach are dropped with it.
///
/// Where the loop runs matters at high rates: each `next()` of any `AsyncSequence` first makes sure
/// it runs on the loop's actor, which on the main actor costs about 45 ns per element (measured
/// with a trivial sequence; under 1 ns in a nonisolated function). Read a busy buffer from a
/// nonisolated function, or with ``Instance/followRecords(using:order:pollInterval:_:)`` on a thread.
public struct RecordStream: AsyncSequence, Sendable {
    public typealias Element = TraceRecord

    let instance: Instance
    let catalog: EventCatalog
    let pollInterval: Duration
    /// Records handed over at once; a batch shares one byte buffer.
    static let batchSize = 4096
    /// Batches the reader may have handed over that the consumer has not taken yet.
    public static let maximumBatchesAhead = 4

    public func makeAsyncIterator() -> AsyncIterator {
        let credits = StreamCredits(batches: Self.maximumBatchesAhead)
        let reader = RecordReader(catalog: catalog, instance: instance, credits: credits)
        let (batches, continuation) = AsyncThrowingStream<RecordBatch, any Error>.makeStream()
        continuation.onTermination = { _ in reader.requestStop() }
        let catalog = self.catalog
        let pollInterval = self.pollInterval
        let stopper = Stopper(reader: reader)
        // Only the semaphore: the thread must not keep the Stopper (and so itself) alive.
        let readerFinished = stopper.readerFinished
        let instance = self.instance
        instance.followers.withLock { $0.append(reader) }
        DetachedThread.start(named: "tracefs-stream") {
            defer {
                instance.followers.withLock { $0.removeAll { $0 === reader } }
                readerFinished.signal()
            }
            var batch = BatchBuilder(catalog: catalog)
            /// Waits until the consumer is at most `maximumBatchesAhead` batches behind, then hands
            /// the batch over; `false` when the stream was stopped meanwhile.
            func handOver() -> Bool {
                credits.acquire()
                if reader.stopRequested.load(ordering: .acquiring) { return false }
                continuation.yield(batch.take())
                return true
            }
            do {
                try reader.read(follow: true, order: .timestamp, pollInterval: pollInterval) {
                    // A pass ended: hand over what it read.
                    if batch.count > 0 { _ = handOver() }
                } _: { record in
                    if batch.append(record) >= Self.batchSize {
                        return handOver() ? .continue : .stop
                    }
                    return .continue
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return AsyncIterator(batches: batches.makeAsyncIterator(), stopper: stopper, credits: credits)
    }

    /// Hands over the records of a batch one by one.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var batches: AsyncThrowingStream<RecordBatch, any Error>.AsyncIterator
        let stopper: Stopper
        let credits: StreamCredits
        @usableFromInline var current: RecordBatch?
        @usableFromInline var index = 0

        init(batches: AsyncThrowingStream<RecordBatch, any Error>.AsyncIterator, stopper: Stopper,
             credits: StreamCredits) {
            self.batches = batches
            self.stopper = stopper
            self.credits = credits
        }

        public mutating func next() async throws -> TraceRecord? {
            try await next(isolation: nil)
        }

        /// A record already in the current batch is handed over inline, in the caller's own code:
        /// no async call and no executor hop per record; only reaching the end of a batch awaits.
        @inlinable
        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> TraceRecord? {
            if let current, index < current.count {
                defer { index += 1 }
                return current.record(at: index)
            }
            return try await nextBatch(isolation: actor)
        }

        /// Waits for the next non-empty batch and hands over its first record; `nil` when the
        /// stream has ended.
        @usableFromInline
        mutating func nextBatch(isolation actor: isolated (any Actor)?) async throws -> TraceRecord? {
            while true {
                guard let batch = try await batches.next(isolation: actor) else {
                    current = nil
                    return nil
                }
                // Taken: the reader may hand over another.
                credits.release()
                if batch.count > 0 {
                    current = batch
                    index = 1
                    return batch.record(at: 0)
                }
            }
        }
    }

    /// Stops the reader when the iterator goes away (the loop was left with `break`, `return`,
    /// an error or cancellation) and waits for its thread to finish its current record.
    final class Stopper: Sendable {
        let reader: RecordReader
        let readerFinished = DispatchSemaphore(value: 0)
        init(reader: RecordReader) { self.reader = reader }
        deinit {
            reader.requestStop()
            readerFinished.wait()
        }
    }
}
