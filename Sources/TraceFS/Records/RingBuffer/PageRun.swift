import Synchronization

/// The events of one CPU's sub-buffer that a ``PageWalk`` hands out in one go: from the cursor's
/// event up to the page's end, or (merged order) up to the first event at or after `limit`, the
/// time of another CPU's next event.
///
/// ``deliver(_:)`` is inlinable: compiled into the caller of ``Instance/readRecords(using:order:_:)``,
/// the closure is called directly per record (inlined where the compiler sees fit) and the
/// cursor stays in registers. Per record it loads the stop flag, compares the event id with the
/// last one, and retains nothing. State the next run needs (the last format, the count) travels
/// back to the walk in this value.
@usableFromInline
struct PageRun {
    @usableFromInline var cursor: PageCursor
    @usableFromInline let cpu: Int32
    @usableFromInline let limit: UInt64
    /// The reader running the walk; unowned: it runs for the whole read.
    @usableFromInline unowned(unsafe) let reader: RecordReader
    @usableFromInline unowned(unsafe) let formats: FormatCache
    @usableFromInline var lastID: Int32
    @usableFromInline var lastFormat: Unmanaged<EventFormat>?
    /// Records handed out in this run.
    @usableFromInline var delivered = 0
    /// Whether the cursor stands on an event not handed out yet (the run reached `limit`).
    @usableFromInline var onEvent = false

    init(cursor: PageCursor, cpu: Int32, limit: UInt64, reader: RecordReader, formats: FormatCache,
         lastID: Int32, lastFormat: Unmanaged<EventFormat>?) {
        self.cursor = cursor
        self.cpu = cpu
        self.limit = limit
        self.reader = reader
        self.formats = formats
        self.lastID = lastID
        self.lastFormat = lastFormat
    }

    /// Hands the run's events to `body`; `false` when the read must end (`body` stopped or a stop
    /// was requested). The event that ends the read stays the cursor's.
    @inlinable @inline(__always)
    mutating func deliver(_ body: (borrowing Record) throws -> IterationAction) rethrows -> Bool {
        repeat {
            if reader.stopRequested.load(ordering: .relaxed) { return false }
            let data = cursor.event
            if data.count >= 2 {
                // Every event's format begins with `common_type` (unsigned short, offset 0): its id.
                let id = Int32(data.loadUnaligned(as: UInt16.self))
                if id != lastID || lastFormat == nil {
                    lastFormat = formats.format(forID: id)
                    lastID = id
                }
                if let format = lastFormat {
                    delivered &+= 1
                    let record = Record(format: format, data: data, cpu: cpu, timestamp: cursor.timestamp,
                                        lostEventsBefore: cursor.lostEventsBefore, catalog: formats.catalog)
                    if try body(record) != .continue { return false }
                }
            }
            onEvent = cursor.next()
        } while onEvent && cursor.timestamp < limit
        return true
    }
}
