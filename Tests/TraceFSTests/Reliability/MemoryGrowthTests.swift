import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Allocating and freeing every wrapper of a C descriptor many times does not grow the process.
/// (Leaks of single allocations are LeakSanitizer's job: `make check`. Under a sanitizer these
/// tests are off, since its shadow memory and quarantine grow by design.)
extension KernelSuite {
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && getenv("TRACEFS_SANITIZER") == nil && !KernelFeatures.inGuest,
                                 "needs root; on the host, not under sanitizers"))
    struct MemoryGrowthTests {
        static func residentBytes() -> Int {
            let fields = readKernelFile("/proc/self/statm").split(separator: " ")
            return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
        }

        /// Runs `cycle` `count` times after a warm-up and returns how much the resident set grew.
        static func growth(_ count: Int, _ cycle: () throws -> Void) rethrows -> Int {
            for _ in 0..<max(1, count / 100) { try cycle() }
            let before = residentBytes()
            for _ in 0..<count { try cycle() }
            return residentBytes() - before
        }

        static let limit = 1 << 20  // 1 MiB: malloc's own noise, far below 100,000 lost descriptors

        @Test func dynamicEventDescriptors() throws {
            let growth = try Self.growth(100_000) {
                _ = try DynamicEvent.uprobe(system: "swtest_mem", event: "e", file: UprobeTarget.path,
                                            offset: 0x100, fetchArgs: "a=%ax:u64")
            }
            #expect(growth < Self.limit, "grew by \(growth) bytes over 100,000 cycles")
        }

        @Test func listedDynamicEventDescriptors() throws {
            try TemporaryGroup.with("mem") { group in
                try DynamicEvent.uprobe(system: group, event: "listed", file: UprobeTarget.path, offset: 0x100).create()
                let growth = try Self.growth(10_000) { _ = try DynamicEvent.all(system: group) }
                #expect(growth < Self.limit, "grew by \(growth) bytes over 10,000 listings")
            }
        }

        @Test func instanceDescriptors() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("mem")) { instance in
                let name = try #require(instance.name)
                let growth = try Self.growth(100_000) { _ = try Instance.open(named: name) }
                #expect(growth < Self.limit, "grew by \(growth) bytes over 100,000 cycles")
            }
        }

        @Test func recordsAndErrors() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("memrec")) { instance in
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                let growth = try Self.growth(100_000) {
                    try instance.writeMarker("memory")
                    try instance.readRecords(using: catalog) { record in
                        _ = record.copy()
                        _ = record.string("buf")
                        return .continue
                    }
                    _ = try? DynamicEvent.uprobe(system: "swtest_mem", event: "e\n", file: "/bin/true", offset: 0)
                }
                #expect(growth < Self.limit, "grew by \(growth) bytes over 100,000 cycles")
            }
        }

        /// A catalog load takes about 130 ms (libtraceevent parses /proc/kallsyms and the formats),
        /// so this one runs 100 cycles; a leaked handle would hold megabytes each.
        @Test func eventCatalogs() throws {
            let growth = try Self.growth(100) { _ = try EventCatalog.local(systems: ["ftrace"]) }
            #expect(growth < 4 * Self.limit, "grew by \(growth) bytes over 100 catalogs")
        }
    }
}
