extension Instance {
    /// Reads the records the instance's ring buffers held when the call began, and consumes them.
    ///
    /// The read ends: each CPU's buffer is read for at most as many sub-buffers as it holds, so
    /// records that `body` itself causes (a probe on `malloc` and a callback that allocates) do not
    /// keep it going. To read for as long as records arrive, use
    /// ``followRecords(using:order:pollInterval:_:)``.
    ///
    /// ```swift
    /// let catalog = try EventCatalog.local(systems: ["ftrace"])
    /// try Instance.withTemporary(named: "myapp") { instance in
    ///     try instance.writeMarker("hello")
    ///     try instance.readRecords(using: catalog) { record in
    ///         print(record.pid, record.string("buf") ?? "")
    ///         return .continue
    ///     }
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - catalog: The event formats; load it after creating the events you read.
    ///   - order: ``RecordOrder/timestamp`` (oldest first across CPUs), or ``RecordOrder/perCPU``
    ///     (faster; each CPU's records in order, CPUs one after another).
    ///   - body: Called with each record; return ``IterationAction/stop`` to stop early. An error
    ///     it throws stops the reading and is rethrown.
    /// - Throws: ``TraceFSError`` when the buffers cannot be read; `notFound` when they held no
    ///   record and no event is enabled in the instance (the usual mistake behind an empty read:
    ///   enable the event, or read the instance where it is enabled); or what `body` throws.
    ///
    /// The records are read from each CPU's `per_cpu/cpuN/trace_pipe_raw`, whose sub-buffers this
    /// package parses itself; with ``RecordOrder/libtracefsIterate`` the corresponding C function
    /// is `tracefs_iterate_raw_events`.
    ///
    /// Inlinable, with the page walk's per-record loop, so that `body` is compiled into that loop:
    /// a call through a closure value, with the record's view built in memory for it, cost more per
    /// record than walking the page.
    @inlinable
    public func readRecords(
        using catalog: EventCatalog, order: RecordOrder = .timestamp,
        _ body: (borrowing Record) throws -> IterationAction
    ) throws {
        let reader = RecordReader(catalog: catalog, instance: self)
        var delivered = 0
        if order == .libtracefsIterate {
            delivered = try reader.read(follow: false, order: order, pollInterval: .zero, body)
        } else {
            var walk = try PageWalk(reader: reader, follow: false, order: order, pollInterval: .zero)
            delivered = try walk.deliverAll(body)
        }
        if delivered == 0, let nothingEnabled = nothingEnabledError() { throw nothingEnabled }
    }

    /// Reads records as they arrive until `body` returns ``IterationAction/stop``, throws, or
    /// another task calls ``stopFollowing()``. This call blocks its thread: run it where blocking
    /// is fine (a dedicated thread), or use ``records(using:pollInterval:)`` from async code.
    ///
    /// Each CPU's `trace_pipe_raw` is opened once; between passes the thread sleeps in `poll` on
    /// them until the kernel reports data (its `buffer_percent` threshold), `pollInterval` passes,
    /// or a stop wakes it.
    ///
    /// - Parameters:
    ///   - catalog: The event formats.
    ///   - order: ``RecordOrder/timestamp`` or ``RecordOrder/perCPU`` (see
    ///     ``readRecords(using:order:_:)``).
    ///   - pollInterval: The longest wait for new records after the buffers ran empty.
    ///   - body: Called with each record.
    ///
    /// The corresponding C function (with ``RecordOrder/libtracefsIterate``) is
    /// `tracefs_iterate_raw_events`.
    @inlinable
    public func followRecords(
        using catalog: EventCatalog, order: RecordOrder = .timestamp, pollInterval: Duration = .milliseconds(10),
        _ body: (borrowing Record) throws -> IterationAction
    ) throws {
        let reader = RecordReader(catalog: catalog, instance: self)
        addFollower(reader)
        defer { removeFollower(reader) }
        if order == .libtracefsIterate {
            try reader.read(follow: true, order: order, pollInterval: pollInterval, body)
        } else {
            var walk = try PageWalk(reader: reader, follow: true, order: order, pollInterval: pollInterval)
            _ = try walk.deliverAll(body)
        }
    }

    /// Registers `reader` for ``stopFollowing()``.
    @usableFromInline
    func addFollower(_ reader: RecordReader) {
        followers.withLock { $0.append(reader) }
    }

    @usableFromInline
    func removeFollower(_ reader: RecordReader) {
        followers.withLock { $0.removeAll { $0 === reader } }
    }

    /// Stops every ``followRecords(using:order:pollInterval:_:)`` in progress on this instance,
    /// from any thread or task: each returns after its current record, without an error, also
    /// when the instance is being removed.
    public func stopFollowing() {
        for reader in followers.withLock({ $0 }) { reader.requestStop() }
    }

    /// The instance's records as an `AsyncSequence` that follows the buffers until the consuming
    /// task is cancelled or stops iterating. Records are copied out in batches; at most
    /// ``RecordStream/maximumBatchesAhead`` of them wait for the loop (see ``RecordStream``).
    ///
    /// ```swift
    /// func printMarkers(of instance: Instance) async throws {
    ///     let catalog = try EventCatalog.local(systems: ["ftrace"])
    ///     for try await record in instance.records(using: catalog) {
    ///         print(record.string("buf") ?? "", record.lostEventsBefore)
    ///     }
    /// }
    /// ```
    public func records(using catalog: EventCatalog, pollInterval: Duration = .milliseconds(10)) -> RecordStream {
        RecordStream(instance: self, catalog: catalog, pollInterval: pollInterval)
    }

    /// The error an empty read reports when the instance has no event enabled (`set_event` is
    /// empty); `nil` when some event is enabled, or when that cannot be read.
    @usableFromInline
    func nothingEnabledError() -> TraceFSError? {
        guard let directory, let enabled = KernelFile.read(directory + "/set_event"),
              enabled.allSatisfy(\.isWhitespace) else { return nil }
        return TraceFSError(.notFound, operation: "read the records of the \(self)",
                            reason: "its buffers held no record and no event is enabled in it; enable the events "
                                + "to read with enableEvent(system:event:) first, or read the instance where "
                                + "they are enabled (a TraceSession's own instance, not Instance.top)")
    }
}
