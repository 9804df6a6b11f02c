/// Records copied out of the ring buffers together: one byte buffer and a list of where each
/// record is in it. A stream hands records over a batch at a time, so that it allocates per batch,
/// and a ``TraceRecord`` holds its batch (one reference) rather than its format and catalog.
@usableFromInline
final class RecordBatch: Sendable {
    /// What a record's view needs besides the bytes. Plain values: the format is held unretained,
    /// because the catalog (which the batch holds) keeps every format it has looked up.
    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline let format: Unmanaged<EventFormat>
        @usableFromInline let cpu: Int
        @usableFromInline let timestamp: UInt64
        @usableFromInline let lostEventsBefore: Int64
        @usableFromInline let range: Range<Int>

        init(format: Unmanaged<EventFormat>, cpu: Int, timestamp: UInt64, lostEventsBefore: Int64, range: Range<Int>) {
            self.format = format
            self.cpu = cpu
            self.timestamp = timestamp
            self.lostEventsBefore = lostEventsBefore
            self.range = range
        }
    }

    let catalog: EventCatalog
    @usableFromInline let bytes: [UInt8]
    @usableFromInline let entries: [Entry]

    init(catalog: EventCatalog, bytes: [UInt8], entries: [Entry]) {
        self.catalog = catalog
        self.bytes = bytes
        self.entries = entries
    }

    @inlinable
    var count: Int { entries.count }

    /// The batch's record at `index`.
    @inlinable
    func record(at index: Int) -> TraceRecord {
        TraceRecord(batch: self, entry: entries[index])
    }
}
