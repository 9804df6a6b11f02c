extension Instance {
    /// Reads the records the instance's ring buffers hold now, oldest first across CPUs, and
    /// consumes them.
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
    ///   - body: Called with each record; return ``IterationAction/stop`` to stop early. An error
    ///     it throws stops the reading and is rethrown.
    /// - Throws: ``TraceFSError`` when the buffers cannot be read, or what `body` throws.
    ///
    /// The corresponding C function is `tracefs_iterate_raw_events`.
    public func readRecords(
        using catalog: EventCatalog, _ body: (borrowing Record) throws -> IterationAction
    ) throws {
        try RecordReader(catalog: catalog, instance: self).read(follow: false, pollInterval: .zero, body)
    }

    /// Reads records as they arrive until `body` returns ``IterationAction/stop``, throws, or
    /// another task calls ``stopFollowing()``. This call blocks its thread: run it where blocking
    /// is fine (a dedicated thread), or use ``records(using:pollInterval:)`` from async code.
    ///
    /// - Parameters:
    ///   - catalog: The event formats.
    ///   - pollInterval: How long to wait after the buffers run empty before looking again.
    ///   - body: Called with each record.
    ///
    /// The corresponding C functions are `tracefs_iterate_raw_events` and `tracefs_iterate_stop`.
    public func followRecords(
        using catalog: EventCatalog, pollInterval: Duration = .milliseconds(10),
        _ body: (borrowing Record) throws -> IterationAction
    ) throws {
        let reader = RecordReader(catalog: catalog, instance: self)
        followers.withLock { $0.append(reader) }
        defer { followers.withLock { $0.removeAll { $0 === reader } } }
        try reader.read(follow: true, pollInterval: pollInterval, body)
    }

    /// Stops every ``followRecords(using:pollInterval:_:)`` in progress on this instance, from any
    /// thread or task.
    ///
    /// The corresponding C function is `tracefs_iterate_stop`.
    public func stopFollowing() {
        for reader in followers.withLock({ $0 }) { reader.requestStop() }
    }

    /// The instance's records as an `AsyncSequence` that follows the buffers until the consuming
    /// task is cancelled or stops iterating. Records are copied out in batches.
    ///
    /// ```swift
    /// func printMarkers(of instance: Instance) async throws {
    ///     let catalog = try EventCatalog.local(systems: ["ftrace"])
    ///     for try await record in instance.records(using: catalog) {
    ///         print(record.string("buf") ?? "")
    ///     }
    /// }
    /// ```
    public func records(using catalog: EventCatalog, pollInterval: Duration = .milliseconds(10)) -> RecordStream {
        RecordStream(instance: self, catalog: catalog, pollInterval: pollInterval)
    }
}
