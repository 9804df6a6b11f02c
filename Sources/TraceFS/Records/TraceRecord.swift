/// An event record that owns its data: what ``Instance/records(using:pollInterval:)`` yields and
/// ``Record/copy()`` returns.
public struct TraceRecord: Sendable, RecordFields {
    /// The event this record is an instance of.
    public let format: EventFormat
    /// The CPU whose buffer held the record.
    public let cpu: Int
    /// The record's time stamp, in the instance's trace clock.
    public let timestamp: UInt64
    /// The kernel pid (a thread id; `gettid()`) of the task that was running when the event fired
    /// (`common_pid`).
    public let pid: Int32
    /// That process's command name, when the kernel saved it.
    public var command: String? { catalog.command(forPID: pid) }
    let catalog: EventCatalog
    @usableFromInline let bytes: RecordBytes
    @usableFromInline let range: Range<Int>

    init(format: EventFormat, cpu: Int, timestamp: UInt64, pid: Int32, catalog: EventCatalog, bytes: RecordBytes,
         range: Range<Int>) {
        self.format = format
        self.cpu = cpu
        self.timestamp = timestamp
        self.pid = pid
        self.catalog = catalog
        self.bytes = bytes
        self.range = range
    }

    @inlinable
    public func withUnsafeData<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try bytes.storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }
}

/// Immutable bytes shared by the records copied out of one batch, so that a stream allocates per
/// batch rather than per record.
@usableFromInline
final class RecordBytes: Sendable {
    @usableFromInline let storage: [UInt8]

    init(_ storage: [UInt8]) { self.storage = storage }

    convenience init(copying data: UnsafeRawBufferPointer) { self.init(Array(data)) }
}
