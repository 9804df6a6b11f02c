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

            // Every side must read back exactly the text `fill()` wrote, "bench <index % 1000000>",
            // with the newline the kernel appends to a marker.
            let expectedText = (0..<records).reduce(Int64(0)) { sum, index in
                sum + Int64("bench \(index % 1_000_000)\n".utf8.count)
            }
            /// Reads the filled buffer through the C callback, timed.
            func cSide() -> Reading {
                var textBytes: Int64 = 0
                let count = measured { baseline_iterate(cTep, cInstance, &textBytes) }
                return Reading(count: count, textBytes: textBytes)
            }
            /// Checks that `side` read every record and exactly the text written.
            func check(_ reading: Reading, _ side: String) throws -> Int {
                guard reading.count == records else {
                    var stats = ""
                    for cpu in 0..<Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) {
                        if let text = tracefs_instance_file_read(cInstance, "per_cpu/cpu\(cpu)/stats", nil) {
                            stats += " cpu\(cpu): " + String(cString: text).split(separator: "\n").prefix(4).joined(separator: ", ")
                            free(text)
                        }
                    }
                    throw BenchError("\(side) read \(reading.count) of \(records) records: raise the buffer size;\(stats)")
                }
                guard reading.textBytes == expectedText else {
                    throw BenchError("\(side) read other text: \(reading.textBytes) bytes")
                }
                return reading.count
            }

            // iterate
            // "bytes" is the same iteration measuring the text in place, as the C callback does: what
            // the overlay costs without building a String per record.
            if runs("iterate") { results.append(("iterate", try await alternate(["swift", "bytes", "c"]) { side in
                try fill()
                switch side {
                case "swift": return try check(try measured { try SwiftSide.strings(instance, catalog) }, side)
                case "bytes": return try check(try measured { try SwiftSide.bytes(instance, catalog) }, side)
                default: return try check(cSide(), side)
                }
            })) }

            // rawread: the overlay's page walk against libtracefs's iteration ("c") and the same walk
            // in C ("walk"), merged by time stamp and per CPU.
            let directory = instance.directory!
            let cpus = Int32(sysconf(Int32(_SC_NPROCESSORS_CONF)))
            let subBufferKB = tracefs_instance_file_read(cInstance, "buffer_subbuf_size_kb", nil).map { text -> Int32 in
                defer { free(text) }
                return Int32(String(cString: text).prefix { $0.isNumber }) ?? 4
            } ?? 4
            guard let printEvent = tep_find_event_by_name(cTep, "ftrace", "print"),
                  let bufField = tep_find_field(printEvent, "buf") else { throw BenchError("no ftrace/print buf") }
            var walkTarget = walk_event(id: printEvent.pointee.id, buf_offset: bufField.pointee.offset)
            for (name, order) in [("rawread-merged", RecordOrder.timestamp), ("rawread-percpu", .perCPU)] where runs(name) {
                results.append((name, try await alternate(["swift", "walk", "c"]) { side in
                    try fill()
                    switch side {
                    case "swift": return try check(try measured { try SwiftSide.rawBytes(instance, catalog, order: order) }, side)
                    case "walk":
                        var textBytes: Int64 = 0
                        let count = Int(measured {
                            baseline_page_walk(directory, cpus, subBufferKB * 1024, order == .timestamp ? 1 : 0,
                                               &walkTarget, &textBytes)
                        })
                        return try check(Reading(count: count, textBytes: textBytes), side)
                    default: return try check(cSide(), side)
                    }
                }))
            }

            // stream
            if runs("stream") { results.append(("stream", try await alternate(["swift", "c"]) { side in
                try fill()
                guard side == "swift" else { return try check(cSide(), side) }
                let (reading, duration, allocations) = try await SwiftSide.streamed(instance, catalog, wanted: records)
                Timing.last = (duration, allocations)
                return try check(reading, side)
            })) }

            // decode
            var expectedAddresses: UInt64?
            if runs("decode") { results.append(("decode", try await alternate(["decode", "hand", "c"]) { side in
                try fill()
                let reading: Reading
                switch side {
                case "decode": reading = try measured { try SwiftSide.decoded(instance, catalog) }
                case "hand": reading = try measured { try SwiftSide.handRead(instance, catalog) }
                default: return try check(cSide(), side)
                }
                if expectedAddresses == nil { expectedAddresses = reading.addresses }
                guard reading.addresses == expectedAddresses else { throw BenchError("\(side) read other ip values") }
                return try check(reading, side)
            })) }

            // lifecycle
            let group = session.group
            if runs("lifecycle") { results.append(("lifecycle", try await alternate(["swift", "c"]) { side in
                if side == "swift" {
                    try measured { try SwiftSide.uprobeLifecycle(group: group, count: probes) }
                    return probes
                }
                try measured {
                    guard baseline_uprobe_lifecycle(group, "/bin/true", Int32(probes)) == 0 else {
                        throw BenchError("the C lifecycle failed: errno \(errno)")
                    }
                }
                return probes
            })) }

            // kprobe-describe: kprobe descriptors (nothing is written), the symbol checked against
            // kallsyms, and on a raw address, which is not checked. The first call reads kallsyms.
            if runs("kprobe-describe") {
                let first = ContinuousClock().measure {
                    _ = try? DynamicEvent.kprobe(system: group, event: "describe", address: "do_sys_openat2")
                }
                print("kprobe-describe: the first descriptor, which reads /proc/kallsyms, took \(first)")
                results.append(("kprobe-describe", try await alternate(["checked", "raw"]) { side in
                    let address = side == "checked" ? "do_sys_openat2" : "0xffffffff81000000"
                    try measured {
                        for _ in 0..<probes { _ = try DynamicEvent.kprobe(system: group, event: "describe", address: address) }
                    }
                    return probes
                }))
            }
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

    /// Times `body` and counts its heap allocations into ``Timing/last``.
    nonisolated static func measured<Result>(_ body: () throws -> Result) rethrows -> Result {
        let clock = ContinuousClock()
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.hook()
        let start = clock.now
        let result = try body()
        let elapsed = clock.now - start
        MallocInterposerSwift.unhook()
        Timing.last = (elapsed, Int(MallocInterposerSwift.getStatistics().mallocCount))
        return result
    }

    /// The last measurement. `nonisolated(unsafe)`: the benchmark measures one thing at a time, on
    /// the one task that runs `main`, and reads it right after.
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
            // Cases without a C side (kprobe-describe) have only the table above.
            guard let swift = byName["swift"] ?? byName["decode"], let c = byName["c"] else { continue }
            if let walk = byName["walk"] {
                print("bench: \(name) iterate-x=\(formatted(c.median / swift.median, decimals: 2)) "
                    + "swift/c=\(formatted(walk.median / swift.median, decimals: 2)) "
                    + "allocs/record=\(formatted(swift.allocationsPerUnit, decimals: 3))")
                continue
            }
            var line = "bench: \(name) swift/c=\(formatted(c.median / swift.median, decimals: 2)) "
                + "allocs/record=\(formatted(swift.allocationsPerUnit, decimals: 3))"
            if let hand = byName["hand"] {
                line += " decode/hand=\(formatted(hand.median / swift.median, decimals: 2))"
            }
            if let bytes = byName["bytes"] {
                line += " bytes/c=\(formatted(c.median / bytes.median, decimals: 2))"
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
