/// The timings and allocation counts of one side of a case over its rounds.
struct Samples {
    var seconds: [Double] = []
    var allocations: [Int] = []
    var units = 0

    var minimum: Double { seconds.min() ?? .nan }
    var maximum: Double { seconds.max() ?? .nan }
    var median: Double {
        let sorted = seconds.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
    /// Heap allocations per unit of work (record or probe), from the median round's count.
    var allocationsPerUnit: Double {
        let sorted = allocations.sorted()
        guard !sorted.isEmpty, units > 0 else { return .nan }
        return Double(sorted[sorted.count / 2]) / Double(units)
    }
}

func formatted(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return "n/a" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = String(rounded)
    if let dot = text.firstIndex(of: ".") {
        let places = text.distance(from: dot, to: text.endIndex) - 1
        if places < decimals { text += String(repeating: "0", count: decimals - places) }
    } else if decimals > 0 {
        text += "." + String(repeating: "0", count: decimals)
    }
    return text
}

func padded(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
