/// Copies records into one growing byte buffer and a list of plain descriptions, so a batch costs a
/// few allocations however many records it holds, and no reference counting per record.
struct BatchBuilder {
    let catalog: EventCatalog
    private var bytes: [UInt8] = []
    private var entries: [RecordBatch.Entry] = []

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
        entries.append(RecordBatch.Entry(format: record.formatReference, cpu: record.cpu, timestamp: record.timestamp,
                                         lostEventsBefore: record.lostEventsBefore,
                                         range: start..<bytes.count))
        return entries.count
    }

    /// The batch's records, leaving the builder empty.
    mutating func take() -> RecordBatch {
        let batch = RecordBatch(catalog: catalog, bytes: bytes, entries: entries)
        bytes = []
        bytes.reserveCapacity(RecordStream.batchSize * 64)
        entries = []
        entries.reserveCapacity(RecordStream.batchSize)
        return batch
    }
}
