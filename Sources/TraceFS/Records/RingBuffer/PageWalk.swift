#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Walks an instance's per-CPU raw buffers in passes and hands their events out as ``PageRun``s,
/// merged by time stamp or CPU by CPU. The caller pulls the runs and delivers each run's records
/// (``PageRun/deliver(_:)``), so that the per-record loop is the caller's: the inlinable readers
/// compile it together with the user's closure, and only the step from run to run (a sub-buffer
/// read, the choice of CPU, the wait between passes) is a call into the package.
@usableFromInline
struct PageWalk {
    unowned(unsafe) let reader: RecordReader
    private let buffers: PerCPUBuffers?
    private let formats: FormatCache
    private let follow: Bool
    private let order: RecordOrder
    private let pollInterval: Duration
    private let operation: String
    private var descriptors: [pollfd] = []
    /// Records handed out so far.
    @usableFromInline private(set) var delivered = 0
    private var lastID: Int32 = -1
    private var lastFormat: Unmanaged<EventFormat>?
    private var inPass = false
    private var finished = false
    /// The CPU the per-CPU order is on.
    private var cpuIndex = 0
    /// The buffer of the run handed out last.
    private var current: UnsafeMutablePointer<CPUBuffer>?

    /// Opens the reader's instance's buffers (each CPU's `trace_pipe_raw`, once).
    @usableFromInline
    init(reader: RecordReader, follow: Bool, order: RecordOrder, pollInterval: Duration) throws(TraceFSError) {
        self.reader = reader
        self.follow = follow
        self.order = order
        self.pollInterval = pollInterval
        formats = FormatCache(catalog: reader.catalog)
        operation = "read the records of the \(reader.instance)"
        guard let directory = reader.instance.directory else {
            throw TraceFSError(.outOfMemory, operation: operation, reason: "libtracefs could not name its directory")
        }
        do {
            let buffers = try PerCPUBuffers(instanceDirectory: directory, tracingDirectory: reader.catalog.tracingDirectory,
                                            operation: operation)
            self.buffers = buffers
            descriptors = buffers.buffers.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            descriptors.append(pollfd(fd: reader.wakeUpDescriptor, events: Int16(POLLIN), revents: 0))
        } catch {
            // Stopped while starting: the instance may be gone already (destroy() stops first).
            guard reader.stopRequested.load(ordering: .acquiring) else { throw error }
            buffers = nil
            finished = true
        }
    }

    /// Hands every record of the read to `body`, run by run; returns how many it was given.
    @inlinable @inline(__always)
    mutating func deliverAll(afterPass: () -> Void = {}, _ body: (borrowing Record) throws -> IterationAction) throws -> Int {
        while var run = try nextRun(afterPass: afterPass) {
            // Delivered first, then handed back: as an argument beside the call, `run` would be
            // copied before the call changed it.
            let goOn = try run.deliver(body)
            try finish(run, goOn: goOn)
        }
        return delivered
    }

    /// The next run of records; `nil` when the read is over: the buffers ran empty (not following),
    /// a stop was requested, or the previous run ended the read. Following, it waits between passes
    /// until data arrives, `pollInterval` passes, or a stop wakes it. `afterPass` runs after each pass.
    @usableFromInline
    mutating func nextRun(afterPass: () -> Void = {}) throws(TraceFSError) -> PageRun? {
        while !finished, let buffers {
            if !inPass { try startPass(buffers) }
            if let (buffer, limit) = try nextBuffer(buffers) {
                current = buffer
                return PageRun(cursor: buffer.pointee.cursor, cpu: buffer.pointee.cpu, limit: limit, reader: reader,
                               formats: formats, lastID: lastID, lastFormat: lastFormat)
            }
            inPass = false
            afterPass()
            if reader.stopRequested.load(ordering: .acquiring) || !follow { break }
            // A pass that read its share of some CPU goes on at once; otherwise wait for data, the
            // poll interval, or a stop.
            if !buffers.buffers.contains(where: { $0.pagesLeft == 0 }) {
                _ = poll(&descriptors, nfds_t(descriptors.count), RecordReader.milliseconds(pollInterval))
            }
            if reader.stopRequested.load(ordering: .acquiring) { break }
        }
        finished = true
        return nil
    }

    /// Takes back the run handed out last: `goOn` false (its `deliver` returned `false`) ends the
    /// read with the event that ended it still current, which matters only to a later pass of a
    /// follower that was not stopped, and such a pass does not happen.
    @usableFromInline
    mutating func finish(_ run: PageRun, goOn: Bool) throws(TraceFSError) {
        guard let buffer = current else { return }
        current = nil
        delivered &+= run.delivered
        (lastID, lastFormat) = (run.lastID, run.lastFormat)
        if !goOn {
            finished = true
            buffer.pointee.cursor = run.cursor
        } else if run.onEvent {
            buffer.pointee.cursor = run.cursor
        } else {
            buffer.pointee.hasEvent = false
            try fill(buffer)
        }
    }

    private mutating func startPass(_ buffers: PerCPUBuffers) throws(TraceFSError) {
        reader.catalog.allowCommandReload()
        buffers.startPass(bounded: true)
        formats.forget()
        lastID = -1
        lastFormat = nil
        cpuIndex = 0
        inPass = true
        if order != .perCPU {
            for index in buffers.buffers.indices where !buffers.buffers[index].hasEvent {
                try fill(buffers.buffers.baseAddress! + index)
            }
        }
    }

    /// The buffer whose events go next, and the time before which they go in this run.
    ///
    /// Merged, the oldest CPU's events go out as one run for as long as they are older than every
    /// other CPU's next event (a tie goes to the lower CPU, as choosing record by record would), so
    /// that a pass over mostly one CPU's events costs about what the per-CPU walk does.
    private mutating func nextBuffer(_ buffers: PerCPUBuffers) throws(TraceFSError) -> (UnsafeMutablePointer<CPUBuffer>, UInt64)? {
        let first = buffers.buffers.baseAddress!
        let count = buffers.buffers.count
        if order == .perCPU {
            while cpuIndex < count {
                let buffer = first + cpuIndex
                if !buffer.pointee.hasEvent { try fill(buffer) }
                if buffer.pointee.hasEvent { return (buffer, .max) }
                cpuIndex += 1
            }
            return nil
        }
        var oldest: UnsafeMutablePointer<CPUBuffer>?
        var oldestTime = UInt64.max
        var othersTime = UInt64.max
        for buffer in first..<first + count where buffer.pointee.hasEvent {
            let time = buffer.pointee.cursor.timestamp
            if time < oldestTime {
                othersTime = oldestTime
                oldest = buffer
                oldestTime = time
            } else if time < othersTime {
                othersTime = time
            }
        }
        return oldest.map { ($0, othersTime) }
    }

    /// Reads `buffer`'s next sub-buffer; a failed read ends the read, with an error unless a stop
    /// was requested (the instance may be being removed).
    private mutating func fill(_ buffer: UnsafeMutablePointer<CPUBuffer>) throws(TraceFSError) {
        do {
            _ = try buffer.pointee.fill(layout: buffers!.layout)
        } catch {
            buffer.pointee.hasEvent = false
            finished = true
            if reader.stopRequested.load(ordering: .acquiring) { return }
            throw TraceFSError(.from(errno: error.errno), operation: operation,
                               reason: "reading per_cpu/cpu\(error.cpu)/trace_pipe_raw failed"
                                   + (error.errno == ENODEV ? "; the instance was removed" : ""),
                               function: "read", errno: error.errno)
        }
    }
}
