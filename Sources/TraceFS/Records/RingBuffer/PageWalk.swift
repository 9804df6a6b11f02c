/// Hands the events of a pass over ``PerCPUBuffers`` to a closure as ``Record``s: merged by time
/// stamp, or CPU by CPU. Per record it loads one atomic (a stop request), looks the format up in a
/// one-entry cache, and retains nothing: the reader, which holds the catalog, runs the whole walk,
/// and the catalog's cache keeps every format it handed out.
struct PageWalk {
    unowned(unsafe) let reader: RecordReader
    let catalog: Unmanaged<EventCatalog>
    /// Records handed to `body` so far.
    private(set) var delivered = 0
    private var lastID: Int32 = -1
    private var lastFormat: Unmanaged<EventFormat>?
    /// Formats by event id within one pass, `nil` for ids the catalog does not know (such records
    /// are skipped). Each pass asks the catalog again: it learns new ids and confirms once per pass
    /// that an id still means the same event (the kernel reuses the ids of destroyed events).
    private var formats: [Int32: Unmanaged<EventFormat>?] = [:]

    enum Outcome {
        /// Every CPU's buffer was read empty.
        case drained
        /// Some CPU read as many sub-buffers as its ring buffer holds; there may be more.
        case bounded
        /// `body` or a stop request ended the read.
        case stopped
    }

    init(reader: RecordReader) {
        self.reader = reader
        catalog = Unmanaged.passUnretained(reader.catalog)
    }

    /// Forgets what the previous pass learned, before a pass.
    mutating func startPass() {
        formats.removeAll(keepingCapacity: true)
        lastID = -1
        lastFormat = nil
    }

    /// Oldest first across CPUs: each CPU's next event is loaded, and the oldest goes first.
    mutating func merged(_ buffers: PerCPUBuffers, _ body: RecordCallback.Body) throws -> Outcome {
        let cpus = buffers.buffers
        let layout = buffers.layout
        for index in cpus.indices where !cpus[index].hasEvent {
            _ = try cpus[index].fill(layout: layout)
        }
        let first = cpus.baseAddress!
        let end = first + cpus.count
        while true {
            var oldest: UnsafeMutablePointer<CPUBuffer>?
            var oldestTime = UInt64.max
            var buffer = first
            while buffer < end {
                if buffer.pointee.hasEvent && buffer.pointee.cursor.timestamp < oldestTime {
                    oldest = buffer
                    oldestTime = buffer.pointee.cursor.timestamp
                }
                buffer += 1
            }
            guard let oldest else { break }
            if try !deliver(oldest, body) { return .stopped }
            try oldest.pointee.advance(layout: layout)
        }
        return cpus.contains { $0.pagesLeft == 0 } ? .bounded : .drained
    }

    /// One CPU after another, each in its own order.
    mutating func eachCPU(_ buffers: PerCPUBuffers, _ body: RecordCallback.Body) throws -> Outcome {
        let cpus = buffers.buffers
        let layout = buffers.layout
        for index in cpus.indices {
            let buffer = cpus.baseAddress! + index
            if !buffer.pointee.hasEvent { _ = try buffer.pointee.fill(layout: layout) }
            while buffer.pointee.hasEvent {
                if try !deliver(buffer, body) { return .stopped }
                try buffer.pointee.advance(layout: layout)
            }
        }
        return cpus.contains { $0.pagesLeft == 0 } ? .bounded : .drained
    }

    /// Hands the event `buffer` stands on to `body`; `false` when the read must end. The event
    /// stays current when it ends the read, which matters only to a later pass of a follower
    /// that was not stopped, and such a pass does not happen.
    @inline(__always)
    private mutating func deliver(_ buffer: UnsafeMutablePointer<CPUBuffer>, _ body: RecordCallback.Body) throws -> Bool {
        if reader.stopRequested.load(ordering: .relaxed) { return false }
        let data = buffer.pointee.cursor.event
        guard data.count >= 2 else { return true }
        // Every event's format begins with `common_type` (unsigned short, offset 0): its id.
        let id = Int32(data.loadUnaligned(as: UInt16.self))
        let format: Unmanaged<EventFormat>
        if id == lastID, let lastFormat {
            format = lastFormat
        } else {
            guard let found = lookUp(id) else { return true }
            format = found
            lastID = id
            lastFormat = found
        }
        delivered += 1
        let record = Record(format: format, data: data, cpu: buffer.pointee.cpu, timestamp: buffer.pointee.cursor.timestamp,
                            lostEventsBefore: buffer.pointee.cursor.lostEventsBefore, catalog: catalog)
        return try body(record) == .continue
    }

    private mutating func lookUp(_ id: Int32) -> Unmanaged<EventFormat>? {
        if let known = formats[id] { return known }
        let found = catalog.takeUnretainedValue().format(forEventID: id).map { Unmanaged.passUnretained($0) }
        formats[id] = found
        return found
    }
}
