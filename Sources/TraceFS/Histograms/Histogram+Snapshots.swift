extension Histogram {
    /// The histogram's table every `interval`, with what changed since the previous reading, until
    /// the consuming task stops iterating or is cancelled. The kernel's table is not cleared.
    ///
    /// ```swift
    /// func watch(_ histogram: Histogram) async throws {
    ///     for try await snapshot in histogram.snapshots(every: .seconds(1)) {
    ///         print(snapshot.change.totals.hits, "events in the last second")
    ///     }
    /// }
    /// ```
    ///
    /// The sequence ends with the error of a failed reading.
    public func snapshots(every interval: Duration) -> AsyncThrowingStream<HistogramSnapshot, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                var previous: HistogramTable?
                do {
                    while true {
                        try await Task.sleep(for: interval)
                        let table = try self.read()
                        let change = previous.map { table.difference(since: $0) } ?? table
                        previous = table
                        continuation.yield(HistogramSnapshot(table: table, change: change, time: .now))
                    }
                } catch is CancellationError {
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
