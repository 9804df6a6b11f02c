import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// Histograms the kernel keeps, read while real workloads run: the guest's 6.1 kernel.
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && KernelFeatures.histograms, "needs root and hist triggers"))
    struct HistogramTests {
        /// The mode argument no other open passes: the filter counts only this test's opens.
        static let markerMode: mode_t = 0o421

        /// Opens (and closes) /etc/hostname `count` times with the marker mode. glibc passes the
        /// mode only with O_CREAT; the file exists, so nothing is created (and the syscall's entry
        /// is counted whatever it returns).
        static func openMarked(_ count: Int) {
            for _ in 0..<count {
                let descriptor = open("/etc/hostname", O_RDONLY | O_CREAT, markerMode)
                if descriptor >= 0 { close(descriptor) }
            }
        }

        static let markedOpens = EventFilter.field("mode") == .number(Int64(markerMode))

        @Test func opensKeyedByExecnameCountEachProcesssOpens() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("hist")) { instance in
                let histogram = try Histogram(in: instance, system: "syscalls", event: "sys_enter_openat",
                                              keys: [Histogram.Key("common_pid", .execname)],
                                              sortedBy: [.hitCount(descending: true)], filter: Self.markedOpens)
                try histogram.start()
                defer { try? histogram.destroy() }
                Self.openMarked(7)
                let table = try histogram.read()
                let mine = table.rows.filter {
                    if case .execname(_, let pid) = $0.key("common_pid") { return pid == currentThreadID() }
                    return false
                }
                #expect(mine.count == 1)
                #expect(mine.first?.hitCount == 7)
                #expect(table.totals.hits == 7)
                try histogram.destroy()
                #expect(!histogram.isActive)
                #expect(readKernelFile(try #require(instance.directory) + "/events/syscalls/sys_enter_openat/trigger")
                    .split(separator: "\n").allSatisfy { $0.hasPrefix("#") })
            }
        }

        @Test func pauseContinueClearAndDestroy() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("hist")) { instance in
                let histogram = try Histogram(in: instance, system: "syscalls", event: "sys_enter_openat",
                                              keys: [Histogram.Key("common_pid")], values: ["flags"],
                                              name: TemporaryInstance.name("named"), filter: Self.markedOpens)
                try histogram.start()
                defer { try? histogram.destroy() }
                Self.openMarked(3)
                #expect(try histogram.read().totals.hits == 3)
                try histogram.pause()
                #expect(try histogram.read().isPaused)
                Self.openMarked(2)
                #expect(try histogram.read().totals.hits == 3)
                try histogram.resume()
                Self.openMarked(2)
                #expect(try histogram.read().totals.hits == 5)
                try histogram.clear()
                #expect(try histogram.read().totals.hits == 0)
                // The same trigger twice: the kernel refuses it.
                let twice = try #require(throws: TraceFSError.self) { try histogram.start() }
                #expect(twice.function == "tracefs_hist_command")
                try histogram.destroy()
                try histogram.destroy()
                #expect(!histogram.isActive)
            }
        }

        /// Every key modifier, live: the kernel's output for it parses into keys of its kind.
        @Test(arguments: LiveKey.all)
        func everyKeyModifierParsesLive(live: LiveKey) throws {
            try Instance.withTemporary(named: TemporaryInstance.name("hist")) { instance in
                let histogram = try Histogram(in: instance, system: live.system, event: live.event, keys: [live.key],
                                              values: live.values)
                try histogram.start()
                defer { try? histogram.destroy() }
                for _ in 0..<3 { _ = ChildRun.run(["/bin/cat", "/etc/hostname"]) }
                let table = try histogram.read()
                #expect(!table.rows.isEmpty)
                #expect(UInt64(table.rows.count) == table.totals.entries)
                for row in table.rows {
                    let key = try #require(row.key(live.key.field))
                    #expect(live.fits(key), "\(key)")
                }
                try histogram.destroy()
            }
        }

        @Test func snapshotDifferencesAddUpToTheTable() async throws {
            let instance = try Instance.create(named: TemporaryInstance.name("hist"))
            defer { try? instance.destroy() }
            let histogram = try Histogram(in: instance, system: "syscalls", event: "sys_enter_openat",
                                          keys: [Histogram.Key("common_pid")], filter: Self.markedOpens)
            try histogram.start()
            defer { try? histogram.destroy() }
            var changes: UInt64 = 0
            var last: HistogramTable?
            var count = 0
            for try await snapshot in histogram.snapshots(every: .milliseconds(100)) {
                changes += snapshot.change.totals.hits
                last = snapshot.table
                count += 1
                if count == 4 { break }
                Self.openMarked(count)
            }
            #expect(last?.totals.hits == 1 + 2 + 3)
            #expect(changes == last?.totals.hits)
            try histogram.destroy()
        }
    }

    /// Histograms and synthetic events on a kernel without them (this machine's 6.18 build).
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && !KernelFeatures.histograms, "only where histograms are missing"))
    struct MissingHistogramTests {
        @Test func histogramsAreUnsupportedNamingTheKernelOption() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("hist")) { instance in
                let error = try #require(throws: TraceFSError.self) {
                    _ = try Histogram(in: instance, system: "kmem", event: "kmalloc", keys: [Histogram.Key("bytes_req", .log2)])
                }
                #expect(error.code == .unsupported)
                #expect(error.description.contains("CONFIG_HIST_TRIGGERS"))
            }
        }
    }
}

/// A key with a modifier on a guest event, and what its parsed keys must be.
struct LiveKey: Sendable, CustomTestStringConvertible {
    let system: String
    let event: String
    let key: Histogram.Key
    var values: [String] = []
    let fits: @Sendable (HistogramKeyValue) -> Bool
    var testDescription: String { "\(system)/\(event) \(key.field) \(key.modifier)" }

    static let all: [LiveKey] = [
        LiveKey(system: "kmem", event: "kmalloc", key: Histogram.Key("call_site", .symbol), values: ["bytes_req"]) {
            if case .symbol(let address, let name, _) = $0 { return address != 0 && !name.isEmpty }
            return false
        },
        LiveKey(system: "kmem", event: "kmalloc", key: Histogram.Key("call_site", .symbolOffset)) {
            if case .symbolOffset(let address, _, _, _, _) = $0 { return address != 0 }
            return false
        },
        LiveKey(system: "kmem", event: "kmalloc", key: Histogram.Key("call_site", .hex)) {
            if case .hex(let address) = $0 { return address != 0 }
            return false
        },
        LiveKey(system: "kmem", event: "kmalloc", key: Histogram.Key("bytes_req", .log2)) {
            if case .log2(let exponent) = $0 { return (0...64).contains(exponent) }
            return false
        },
        LiveKey(system: "kmem", event: "kmalloc", key: Histogram.Key("bytes_req", .buckets(size: 64))) {
            if case .bucket(let lower, let upper) = $0 { return lower % 64 == 0 && upper == lower + 63 }
            return false
        },
        LiveKey(system: "kmem", event: "kmalloc", key: .stackTrace) {
            if case .stackTrace(let frames) = $0 { return !frames.isEmpty }
            return false
        },
        LiveKey(system: "kmem", event: "kmalloc", key: Histogram.Key("common_pid", .execname)) {
            if case .execname(let command, let pid) = $0 { return !command.isEmpty && pid >= 0 }
            return false
        },
        LiveKey(system: "raw_syscalls", event: "sys_enter", key: Histogram.Key("id", .syscall)) {
            if case .syscall(let name, let number) = $0 { return number >= 0 && !name.isEmpty }
            return false
        },
        LiveKey(system: "sched", event: "sched_process_exec", key: Histogram.Key("filename")) {
            if case .string(let text) = $0 { return text.hasPrefix("/") }
            return false
        },
        LiveKey(system: "sched", event: "sched_process_exec", key: Histogram.Key("pid")) {
            if case .number(let pid) = $0 { return pid > 0 }
            return false
        },
        LiveKey(system: "raw_syscalls", event: "sys_enter", key: Histogram.Key("common_timestamp", .usecs)) {
            if case .number(let time) = $0 { return time > 0 }
            return false
        },
    ]
}
