/// The totals under a histogram.
public struct HistogramTotals: Sendable, Hashable {
    /// Events counted.
    public let hits: UInt64
    /// Rows (distinct keys).
    public let entries: UInt64
    /// Events not counted because the table was full (raise the histogram's size).
    public let dropped: UInt64

    public init(hits: UInt64, entries: UInt64, dropped: UInt64) {
        self.hits = hits
        self.entries = entries
        self.dropped = dropped
    }
}
