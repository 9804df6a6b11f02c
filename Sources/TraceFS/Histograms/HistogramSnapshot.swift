/// One reading of a histogram in a ``Histogram/snapshots(every:)`` sequence.
public struct HistogramSnapshot: Sendable {
    /// The whole table, as the kernel has it (it is never cleared by the sequence).
    public let table: HistogramTable
    /// What changed since the previous snapshot: rows whose values grew, by how much, and the
    /// hits in between. For the first snapshot, the whole table.
    public let change: HistogramTable
    /// When the table was read.
    public let time: ContinuousClock.Instant
}
