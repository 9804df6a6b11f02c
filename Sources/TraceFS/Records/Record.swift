import CTraceFS

/// One event record from a ring buffer, as a view into the sub-buffer being read.
///
/// A `Record` exists only inside a reading callback (see
/// ``Instance/readRecords(using:order:_:)``): it is `~Copyable` and handed out `borrowing`, so it cannot be
/// stored or escape the callback while its memory is being reused. Keep what you need by reading
/// fields, decoding, or ``copy()``.
///
/// Swift 6.3's compiler crashes (signal 11 in its MoveOnlyChecker) on a closure kept in a local, or a
/// nested function, that captures the borrowed record. Closures passed straight to a call, such as
/// `names.map { record.unsigned($0) }`, compile. Instead of capturing the record, pass it as a
/// parameter, capture what you read from it, or capture a ``copy()``:
///
/// ```swift
/// func line(_ record: borrowing Record) -> String {
///     "\(record.pid): \(record.string("buf") ?? "")"
/// }
///
/// func printMarkers(of instance: Instance, using catalog: EventCatalog) throws {
///     try instance.readRecords(using: catalog) { record in
///         print(line(record))
///         let kept = record.copy()
///         let describe = { "\(kept.format) at \(kept.timestamp)" }
///         print(describe())
///         return .continue
///     }
/// }
/// ```
public struct Record: ~Copyable, RecordFields {
    /// The event this record is an instance of.
    public var format: EventFormat { formatReference.takeUnretainedValue() }
    /// The CPU whose buffer held the record.
    public let cpu: Int
    /// The record's time stamp, in the instance's trace clock (nanoseconds for `local`).
    public let timestamp: UInt64
    /// How many events the kernel dropped before this one in this CPU's buffer (buffer full): 0
    /// for most records; -1 when it dropped some without storing how many.
    public let lostEventsBefore: Int64
    @usableFromInline let data: UnsafeRawBufferPointer
    /// Held without reference counting: the catalog's cache keeps the format alive for the whole
    /// read, and ``format`` hands out a strong reference.
    @usableFromInline let formatReference: Unmanaged<EventFormat>
    /// The catalog the reader holds for the whole read; unretained, like ``format``.
    @usableFromInline let catalog: Unmanaged<EventCatalog>

    init(format: Unmanaged<EventFormat>, record: UnsafeMutablePointer<tep_record>, cpu: Int32, catalog: Unmanaged<EventCatalog>) {
        formatReference = format
        self.cpu = Int(cpu)
        timestamp = record.pointee.ts
        lostEventsBefore = record.pointee.missed_events
        data = UnsafeRawBufferPointer(start: record.pointee.data, count: Int(max(0, record.pointee.size)))
        self.catalog = catalog
    }

    @inlinable @inline(__always)
    init(format: Unmanaged<EventFormat>, data: UnsafeRawBufferPointer, cpu: Int32, timestamp: UInt64,
         lostEventsBefore: Int64, catalog: Unmanaged<EventCatalog>) {
        formatReference = format
        self.cpu = Int(cpu)
        self.timestamp = timestamp
        self.lostEventsBefore = lostEventsBefore
        self.data = data
        self.catalog = catalog
    }

    /// That process's command name, from the kernel's saved command lines (`saved_cmdlines`).
    public var command: String? {
        catalog.takeUnretainedValue().command(forPID: pid)
    }

    @inlinable
    public func withFormat<Result>(_ body: (EventFormat) throws -> Result) rethrows -> Result {
        try formatReference._withUnsafeGuaranteedRef(body)
    }

    @inlinable
    public func withUnsafeData<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(data)
    }

    /// An owned copy that outlives the callback.
    public func copy() -> TraceRecord {
        let entry = RecordBatch.Entry(format: formatReference, cpu: cpu, timestamp: timestamp,
                                     lostEventsBefore: lostEventsBefore, range: 0..<data.count)
        return RecordBatch(catalog: catalog.takeUnretainedValue(), bytes: Array(data), entries: [entry]).record(at: 0)
    }
}
