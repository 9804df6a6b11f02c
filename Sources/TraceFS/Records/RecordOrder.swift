/// The order in which a reader hands over records of several CPUs.
public enum RecordOrder: Sendable {
    /// Oldest first across all CPUs (merged by time stamp), as the kernel's `trace` file shows them.
    case timestamp
    /// Each CPU's records in order, one CPU's buffer after another: records of different CPUs are
    /// not in time order. The fastest way to read when the order across CPUs does not matter
    /// (counting, aggregating, or sorting later by ``Record/timestamp``).
    case perCPU
    /// libtracefs's own `tracefs_iterate_raw_events` (merged by time stamp), kept for comparison;
    /// several times slower, it re-opens every file on each pass, and libtracefs 1.6.4 reads no
    /// records from sub-buffers larger than a page (`buffer_subbuf_size_kb`) while consuming them.
    case libtracefsIterate
}
