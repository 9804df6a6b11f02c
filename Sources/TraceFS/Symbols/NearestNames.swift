/// The names most like a misspelt one, for "did you mean" suggestions.
///
/// A candidate qualifies when its edit distance (Levenshtein, over UTF-8 bytes) to the query is at
/// most `max(2, query length / 3)`, or when it shares a prefix with the query of at least
/// `min(query length, 4)` bytes (`pthread_creat` finds `pthread_create`, `swtf` finds
/// `swtf_target`). Qualifying names are ordered by distance, then by longer common prefix, then
/// by name.
enum NearestNames {
    static func nearest(to query: String, in candidates: some Sequence<String>, limit: Int = 5) -> [String] {
        let target = Array(query.utf8)
        let allowed = max(2, target.count / 3)
        let prefixNeeded = min(target.count, 4)
        var scored: [(distance: Int, prefix: Int, name: String)] = []
        var previous = [Int](), current = [Int]()
        for name in Set(candidates) where name != query {
            let bytes = Array(name.utf8)
            let prefix = zip(bytes, target).prefix(while: { $0 == $1 }).count
            let sharesPrefix = prefixNeeded > 0 && prefix >= prefixNeeded
            // The distance is at least the difference in length: skip what cannot qualify
            // without computing it (a 5,000-byte query against 3,000 names would take seconds).
            guard sharesPrefix || abs(bytes.count - target.count) <= allowed else { continue }
            let distance = editDistance(target, bytes, previous: &previous, current: &current)
            guard distance <= allowed || sharesPrefix else { continue }
            scored.append((distance, prefix, name))
        }
        scored.sort { ($0.distance, -$0.prefix, $0.name) < ($1.distance, -$1.prefix, $1.name) }
        return scored.prefix(limit).map(\.name)
    }

    /// Levenshtein distance with two reused rows.
    static func editDistance(_ a: [UInt8], _ b: [UInt8], previous: inout [Int], current: inout [Int]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        previous = Array(0...b.count)
        current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
