import CBaseline
import MallocInterposerSwift
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// `make bench`: each case does the same work through the Swift overlay and through the C API,
/// alternating sides round by round, and reports min/median/max of each side, then one line per
/// case: `bench: <case> swift/c=<ratio> allocs/record=<n>` (ratio > 1: Swift is faster).
@main
@MainActor
struct Bench {
    nonisolated static let rounds = environmentNumber("BENCH_ROUNDS", default: 5)
    nonisolated static let records = environmentNumber("BENCH_RECORDS", default: 1_000_000)
    nonisolated static let probes = 200
    /// `BENCH_CASES=iterate,lifecycle` runs only those cases (for profiling one of them).
    nonisolated static let cases: Set<String>? = getenv("BENCH_CASES").map {
        Set(String(cString: $0).split(separator: ",").map(String.init))
    }
    nonisolated static func runs(_ name: String) -> Bool { cases?.contains(name) ?? true }

    struct Print: Decodable {
        let buf: String
        let ip: UInt64
    }

    static func main() async throws {
        try checkAllocationCounting()
        var results: [(name: String, sides: [(String, Samples)])] = []
        try await TraceSession.run { session in
            let instance = session.instance
            // Enough for every record on one CPU: a print record with its headers is under 48 bytes.
            try instance.setBufferSize(kilobytes: max(1024, records * 64 / 1024))
            let catalog = try EventCatalog.local(systems: ["ftrace"])
            let name = instance.name!
            guard let cInstance = tracefs_instance_alloc(nil, name) else { throw BenchError("tracefs_instance_alloc failed") }
            defer { tracefs_instance_free(cInstance) }
            let cTep = withSystems(["ftrace"]) { tracefs_local_events_system(nil, $0) }
            guard let cTep else { throw BenchError("tracefs_local_events_system failed") }
            defer { tep_free(cTep) }

            func fill() throws {
                let written = baseline_write_markers(cInstance, records)
                guard written == records else { throw BenchError("wrote \(written) of \(records) markers") }
            }
            func checked(_ count: Int, _ side: String) throws {
                guard count == records else {
                    var stats = ""
                    for cpu in 0..<Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) {
                        if let text = tracefs_instance_file_read(cInstance, "per_cpu/cpu\(cpu)/stats", nil) {
                            stats += " cpu\(cpu): " + String(cString: text).split(separator: "\n").prefix(4).joined(separator: ", ")
                            free(text)
                        }
                    }
                    throw BenchError("\(side) read \(count) of \(records) records: raise the buffer size;\(stats)")
                }
            }

            // iterate
            // Every side must read back exactly the text `fill()` wrote, "bench <index % 1000000>",
            // with the newline the kernel appends to a marker.
            let expectedChecksum = (0..<records).reduce(Int64(0)) { sum, index in
                sum + Int64("bench \(index % 1_000_000)\n".utf8.count)
            }
            if runs("iterate") { results.append(("iterate", try await alternate(["swift", "c"]) { side in
                try fill()
                var checksum: Int64 = 0
                let count: Int
                if side == "swift" {
                    count = try measured {
                        var count = 0
                        try instance.readRecords(using: catalog) { record in
                            if let text = record.string("buf") { checksum += Int64(text.utf8.count) }
                            count += 1
                            return .continue
                        }
                        return count
                    }
                } else {
                    count = measured {
                        var total: Int64 = 0
                        let count = baseline_iterate(cTep, cInstance, &total)
                        checksum = total
                        return count
                    }
                }
                try checked(count, side)
                guard checksum == expectedChecksum else { throw BenchError("\(side) read other text: \(checksum) bytes") }
                return count
            })) }

            // stream
            if runs("stream") { results.append(("stream", try await alternate(["swift", "c"]) { side in
                try fill()
                if side == "c" {
                    var total: Int64 = 0
                    let count = measured { baseline_iterate(cTep, cInstance, &total) }
                    try checked(count, side)
                    return count
                }
                let (count, checksum, duration, allocations) = try await streamRecords(
                    from: instance, using: catalog, count: records)
                Timing.last = (duration, allocations)
                try checked(count, side)
                guard checksum == expectedChecksum else { throw BenchError("stream read other text: \(checksum) bytes") }
                return count
            })) }

            // decode
            var expectedAddresses: UInt64?
            if runs("decode") { results.append(("decode", try await alternate(["decode", "hand", "c"]) { side in
                try fill()
                var checksum: Int64 = 0
                var addresses: UInt64 = 0
                let count: Int
                switch side {
                case "decode":
                    count = try measured {
                        var count = 0
                        try instance.readRecords(using: catalog) { record in
                            let print = try record.decode(Print.self)
                            checksum += Int64(print.buf.utf8.count)
                            addresses &+= print.ip
                            count += 1
                            return .continue
                        }
                        return count
                    }
                case "hand":
                    count = try measured {
                        var count = 0
                        try instance.readRecords(using: catalog) { record in
                            checksum += Int64(record.string("buf")?.utf8.count ?? 0)
                            addresses &+= record.unsigned("ip") ?? 0
                            count += 1
                            return .continue
                        }
                        return count
                    }
                default:
                    count = measured { baseline_iterate(cTep, cInstance, &checksum) }
                }
                try checked(count, side)
                guard checksum == expectedChecksum else { throw BenchError("\(side) read other text: \(checksum) bytes") }
                if side != "c" {
                    if expectedAddresses == nil { expectedAddresses = addresses }
                    guard addresses == expectedAddresses else { throw BenchError("\(side) read other ip values") }
                }
                return count
            })) }

            // lifecycle
            let group = session.group
            if runs("lifecycle") { results.append(("lifecycle", try await alternate(["swift", "c"]) { side in
                if side == "swift" {
                    return try measured {
                        for index in 0..<probes {
                            let probe = try DynamicEvent.uprobe(system: group, event: "e\(index)", file: "/bin/true",
                                                                offset: 0x100 + UInt64(index))
                            try probe.create()
                            try probe.destroy()
                        }
                        return probes
                    }
                }
                return try measured {
                    guard baseline_uprobe_lifecycle(group, "/bin/true", Int32(probes)) == 0 else {
                        throw BenchError("the C lifecycle failed: errno \(errno)")
                    }
                    return probes
                }
            })) }
        }
        report(results)
    }

    // MARK: - Rounds

    /// Runs `sides` alternately (the order rotating each round) for ``rounds`` rounds.
    static func alternate(_ sides: [String], _ round: (String) async throws -> Int) async throws -> [(String, Samples)] {
        var samples = Dictionary(uniqueKeysWithValues: sides.map { ($0, Samples()) })
        for index in 0..<rounds {
            for offset in 0..<sides.count {
                let side = sides[(index + offset) % sides.count]
                if getenv("BENCH_DEBUG") != nil { print("round \(index) \(side)") }
                let units = try await round(side)
                samples[side]!.seconds.append(Timing.last.duration.seconds)
                samples[side]!.allocations.append(Timing.last.allocations)
                samples[side]!.units = units
            }
        }
        return sides.map { ($0, samples[$0]!) }
    }

    /// The stream case's loop, timed, with its allocations counted (the reader thread's included).
    ///
    /// Nonisolated, as a tracing tool's reading loop would be. On the main actor, every `next()`
    /// of any AsyncSequence starts by checking that it runs on the main executor: about 45 ns per
    /// element, measured with a trivial sequence (10 million elements: 0.45 s on the main actor,
    /// 0.2 s on another actor, under 1 ms nonisolated). That cost is not the overlay's.
    nonisolated static func streamRecords(
        from instance: Instance, using catalog: EventCatalog, count wanted: Int
    ) async throws -> (count: Int, checksum: Int64, duration: Duration, allocations: Int) {
        let clock = ContinuousClock()
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.hook()
        let start = clock.now
        var count = 0
        var checksum: Int64 = 0
        for try await record in instance.records(using: catalog, pollInterval: .milliseconds(1)) {
            if let text = record.string("buf") { checksum += Int64(text.utf8.count) }
            count += 1
            if count == wanted { break }
        }
        let duration = clock.now - start
        MallocInterposerSwift.unhook()
        return (count, checksum, duration, Int(MallocInterposerSwift.getStatistics().mallocCount))
    }

    /// Times `body` and counts its heap allocations into ``Timing/last``.
    static func measured(_ body: () throws -> Int) rethrows -> Int {
        let clock = ContinuousClock()
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.hook()
        let start = clock.now
        let units = try body()
        let elapsed = clock.now - start
        MallocInterposerSwift.unhook()
        Timing.last = (elapsed, Int(MallocInterposerSwift.getStatistics().mallocCount))
        return units
    }

    /// The last measurement. `nonisolated(unsafe)`: the benchmark measures one thing at a time on
    /// one task, and only the main actor's code reads and writes it.
    enum Timing {
        nonisolated(unsafe) static var last: (duration: Duration, allocations: Int) = (.zero, 0)
    }

    // MARK: - Report

    static func report(_ results: [(name: String, sides: [(String, Samples)])]) {
        print("")
        print("case       side     rounds   min (ms)   median (ms)   max (ms)   allocs/unit")
        for (name, sides) in results {
            for (side, samples) in sides {
                print(padded(name, 11) + padded(side, 9) + padded(String(samples.seconds.count), 9)
                    + padded(formatted(samples.minimum * 1000, decimals: 1), 11)
                    + padded(formatted(samples.median * 1000, decimals: 1), 14)
                    + padded(formatted(samples.maximum * 1000, decimals: 1), 11)
                    + formatted(samples.allocationsPerUnit, decimals: 3))
            }
        }
        print("")
        for (name, sides) in results {
            let byName = Dictionary(uniqueKeysWithValues: sides)
            let swift = byName["swift"] ?? byName["decode"]!
            let c = byName["c"]!
            var line = "bench: \(name) swift/c=\(formatted(c.median / swift.median, decimals: 2)) "
                + "allocs/record=\(formatted(swift.allocationsPerUnit, decimals: 3))"
            if let hand = byName["hand"] {
                line += " decode/hand=\(formatted(hand.median / swift.median, decimals: 2))"
            }
            print(line)
        }
    }

    // MARK: - Set-up

    static func checkAllocationCounting() throws {
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.hook()
        let probe = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 8)
        probe.deallocate()
        MallocInterposerSwift.unhook()
        guard MallocInterposerSwift.getStatistics().mallocCount > 0 else {
            throw BenchError("allocations are not counted: run with LD_PRELOAD=<bin>/libMallocInterposerSwift.so (make bench does)")
        }
    }

    nonisolated static func environmentNumber(_ name: String, default value: Int) -> Int {
        getenv(name).flatMap { Int(String(cString: $0)) } ?? value
    }

    static func withSystems<Result>(_ systems: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> Result) -> Result {
        let copies = systems.map { strdup($0) }
        defer { for copy in copies { free(copy) } }
        var pointers = copies.map { UnsafePointer($0) }
        pointers.append(nil)
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
