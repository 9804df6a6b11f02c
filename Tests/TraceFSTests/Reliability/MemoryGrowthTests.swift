import CTraceFS
import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Allocating and freeing every wrapper of a C descriptor many times does not grow the heap.
///
/// What is measured is the bytes malloc has handed out and not got back (`mallinfo2()`), not the
/// resident set, which includes malloc's free arenas and so rises and falls by machine and moment.
/// Each test runs two equal batches and checks only the second, after the first has filled caches
/// and pools, against what the objects it makes cost: a batch of `n` cycles that lost one object per
/// cycle would grow by `n` times that cost, and the limit is half of it.
/// (Leaks of single allocations are LeakSanitizer's job: `make check`. Under a sanitizer these
/// tests are off, since its allocator replaces malloc.)
extension KernelSuite {
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && getenv("TRACEFS_SANITIZER") == nil && !KernelFeatures.inGuest,
                                 "needs root; on the host, not under sanitizers"))
    struct MemoryGrowthTests {
        /// Bytes allocated and not freed: small chunks in use plus mmapped large ones.
        static func bytesInUse() -> Int {
            let info = mallinfo2()
            return Int(info.uordblks + info.hblkhd)
        }

        /// What one object that `make` returns costs, with `count` of them alive at once.
        static func cost<Object>(of count: Int, _ make: () throws -> Object) rethrows -> Int {
            var objects: [Object] = []
            objects.reserveCapacity(count)
            let before = bytesInUse()
            for _ in 0..<count { objects.append(try make()) }
            let cost = (bytesInUse() - before) / count
            withExtendedLifetime(objects) {}
            return cost
        }

        /// How much the heap grew over the second of two batches of `count` cycles.
        static func growth(_ count: Int, _ cycle: () throws -> Void) rethrows -> Int {
            for _ in 0..<count { try cycle() }
            let before = bytesInUse()
            for _ in 0..<count { try cycle() }
            return bytesInUse() - before
        }

        /// Checks a batch of `count` cycles against losing one object of `cost` bytes per cycle.
        static func expectNoLeak(growth: Int, count: Int, cost: Int, of what: String,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(cost >= 32, "one \(what) costs \(cost) bytes: the cost measurement is broken", sourceLocation: sourceLocation)
            #expect(growth < count * cost / 2,
                    "the heap grew by \(growth) bytes over \(count) cycles; losing every \(what) (\(cost) bytes) would be \(count * cost)",
                    sourceLocation: sourceLocation)
        }

        static func uprobe() throws -> DynamicEvent {
            try DynamicEvent.uprobe(system: "swtest_mem", event: "e", file: UprobeTarget.path,
                                    offset: 0x100, fetchArgs: "a=%ax:u64")
        }

        @Test func dynamicEventDescriptors() throws {
            let cost = try Self.cost(of: 1_000) { try Self.uprobe() }
            let growth = try Self.growth(20_000) { _ = try Self.uprobe() }
            Self.expectNoLeak(growth: growth, count: 20_000, cost: cost, of: "uprobe descriptor")
        }

        @Test func listedDynamicEventDescriptors() throws {
            try TemporaryGroup.with("mem") { group in
                try DynamicEvent.uprobe(system: group, event: "listed", file: UprobeTarget.path, offset: 0x100).create()
                let cost = try Self.cost(of: 200) { try DynamicEvent.all(system: group) }
                let growth = try Self.growth(2_000) { _ = try DynamicEvent.all(system: group) }
                Self.expectNoLeak(growth: growth, count: 2_000, cost: cost, of: "listing")
            }
        }

        @Test func instanceDescriptors() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("mem")) { instance in
                let name = try #require(instance.name)
                let cost = try Self.cost(of: 1_000) { try Instance.open(named: name) }
                let growth = try Self.growth(20_000) { _ = try Instance.open(named: name) }
                Self.expectNoLeak(growth: growth, count: 20_000, cost: cost, of: "instance descriptor")
            }
        }

        @Test func recordsAndErrors() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("memrec")) { instance in
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                var copies: [TraceRecord] = []
                let cost = try Self.cost(of: 1_000) { () throws -> TraceRecord? in
                    try instance.writeMarker("memory")
                    try instance.readRecords(using: catalog) { record in
                        copies.append(record.copy())
                        return .continue
                    }
                    return copies.popLast()
                }
                let growth = try Self.growth(5_000) {
                    try instance.writeMarker("memory")
                    try instance.readRecords(using: catalog) { record in
                        _ = record.copy()
                        _ = record.string("buf")
                        return .continue
                    }
                    _ = try? DynamicEvent.uprobe(system: "swtest_mem", event: "e\n", file: "/bin/true", offset: 0)
                }
                Self.expectNoLeak(growth: growth, count: 5_000, cost: cost, of: "record copy")
            }
        }

        /// A catalog load takes tens of milliseconds (libtraceevent parses the formats and more),
        /// so this one runs 20 cycles.
        @Test func eventCatalogs() throws {
            let cost = try Self.cost(of: 5) { try EventCatalog.local(systems: ["ftrace"]) }
            let growth = try Self.growth(20) { _ = try EventCatalog.local(systems: ["ftrace"]) }
            Self.expectNoLeak(growth: growth, count: 20, cost: cost, of: "catalog")
        }
    }
}
