/// What one side of a case read, to check against what was written: how many records, the total
/// length of their text, and the sum of their `ip` fields (decode and hand-read sides).
struct Reading {
    var count = 0
    var textBytes: Int64 = 0
    var addresses: UInt64 = 0
}
