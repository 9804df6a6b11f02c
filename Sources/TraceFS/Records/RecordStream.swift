import Dispatch

/// The records of an instance as they arrive, for `for try await`.
///
/// Each iteration starts a reader on a thread of its own that follows the instance's buffers
/// (`tracefs_iterate_raw_events` in passes) and hands records over in batches. The reader stops when
/// the consuming task is cancelled, when the loop is left, or when the iterator goes away; the
/// sequence then ends without an error. Leaving the loop waits until the reader has stopped, so no
/// record is taken from the kernel after the loop; records the reader had already taken but the
/// loop did not reach are dropped with it.
public struct RecordStream: AsyncSequence, Sendable {
    public typealias Element = TraceRecord

    let instance: Instance
    let catalog: EventCatalog
    let pollInterval: Duration
    /// Records handed over at once; a batch shares one byte buffer.
    static let batchSize = 4096

    public func makeAsyncIterator() -> AsyncIterator {
        let reader = RecordReader(catalog: catalog, instance: instance)
        let (batches, continuation) = AsyncThrowingStream<[TraceRecord], any Error>.makeStream()
        continuation.onTermination = { _ in reader.requestStop() }
        let catalog = self.catalog
        let pollInterval = self.pollInterval
        let stopper = Stopper(reader: reader)
        // Only the semaphore: the thread must not keep the Stopper (and so itself) alive.
        let readerFinished = stopper.readerFinished
        let instance = self.instance
        instance.followers.withLock { $0.append(reader) }
        DetachedThread.start {
            defer {
                instance.followers.withLock { $0.removeAll { $0 === reader } }
                readerFinished.signal()
            }
            var batch = BatchBuilder(catalog: catalog)
            do {
                try reader.read(follow: true, pollInterval: pollInterval) {
                    // The buffers are empty for now: hand over what this pass read.
                    if batch.count > 0 { continuation.yield(batch.take()) }
                } _: { record in
                    if batch.append(record) >= Self.batchSize {
                        continuation.yield(batch.take())
                    }
                    return .continue
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return AsyncIterator(batches: batches.makeAsyncIterator(), stopper: stopper)
    }

    /// Hands over the records of a batch one by one.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var batches: AsyncThrowingStream<[TraceRecord], any Error>.AsyncIterator
        let stopper: Stopper
        var current: [TraceRecord] = []
        var index = 0

        public mutating func next() async throws -> TraceRecord? {
            try await next(isolation: nil)
        }

        /// Runs on the caller's actor: a record already in the current batch is handed over
        /// without leaving it, so iterating costs no executor hops per record.
        public mutating func next(isolation actor: isolated (any Actor)?) async throws -> TraceRecord? {
            while index == current.count {
                guard let batch = try await batches.next(isolation: actor) else { return nil }
                current = batch
                index = 0
            }
            defer { index += 1 }
            return current[index]
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

/// Copies records into one growing byte buffer and a list of descriptions, so a batch costs a few
/// allocations however many records it holds.
struct BatchBuilder {
    struct Entry {
        let format: EventFormat
        let cpu: Int
        let timestamp: UInt64
        let pid: Int32
        let range: Range<Int>
    }

    let catalog: EventCatalog
    private var bytes: [UInt8] = []
    private var entries: [Entry] = []

    init(catalog: EventCatalog) {
        self.catalog = catalog
        entries.reserveCapacity(RecordStream.batchSize)
        bytes.reserveCapacity(RecordStream.batchSize * 64)
    }

    var count: Int { entries.count }

    /// Copies `record` in and returns how many the batch holds.
    mutating func append(_ record: borrowing Record) -> Int {
        let start = bytes.count
        record.withUnsafeData { bytes.append(contentsOf: $0) }
        entries.append(Entry(format: record.format, cpu: record.cpu, timestamp: record.timestamp,
                             pid: record.pid, range: start..<bytes.count))
        return entries.count
    }

    /// The batch's records, leaving the builder empty.
    mutating func take() -> [TraceRecord] {
        let shared = RecordBytes(bytes)
        let records = entries.map {
            TraceRecord(format: $0.format, cpu: $0.cpu, timestamp: $0.timestamp, pid: $0.pid,
                        catalog: catalog, bytes: shared, range: $0.range)
        }
        bytes = []
        bytes.reserveCapacity(RecordStream.batchSize * 64)
        entries.removeAll(keepingCapacity: true)
        return records
    }
}
