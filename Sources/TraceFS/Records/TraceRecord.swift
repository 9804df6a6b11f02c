/// An event record that owns its data: what ``Instance/records(using:pollInterval:)`` yields and
/// ``Record/copy()`` returns.
public struct TraceRecord: Sendable, RecordFields {
    /// The event this record is an instance of.
    public var format: EventFormat { formatReference.takeUnretainedValue() }
    /// The CPU whose buffer held the record.
    public let cpu: Int
    /// The record's time stamp, in the instance's trace clock.
    public let timestamp: UInt64
    /// How many events the kernel dropped before this one in this CPU's buffer (its buffer was
    /// full, for instance because the consumer of a ``RecordStream`` fell behind): 0 for most
    /// records; -1 when it dropped some without storing how many.
    public let lostEventsBefore: Int64
    /// That process's command name, when the kernel saved it.
    public var command: String? { batch.catalog.command(forPID: pid) }
    /// The batch that holds the record's bytes and, through its catalog, its format. Copying a
    /// record retains only this, which matters when one thread fills batches and another reads them.
    @usableFromInline let batch: RecordBatch
    @usableFromInline let formatReference: Unmanaged<EventFormat>
    @usableFromInline let range: Range<Int>

    @inlinable
    init(batch: RecordBatch, entry: RecordBatch.Entry) {
        self.batch = batch
        formatReference = entry.format
        cpu = entry.cpu
        timestamp = entry.timestamp
        lostEventsBefore = entry.lostEventsBefore
        range = entry.range
    }

    @inlinable
    public func withFormat<Result>(_ body: (EventFormat) throws -> Result) rethrows -> Result {
        try formatReference._withUnsafeGuaranteedRef(body)
    }

    @inlinable
    public func withUnsafeData<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try batch.bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
}
