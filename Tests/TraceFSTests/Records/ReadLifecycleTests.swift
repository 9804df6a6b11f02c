import Synchronization
import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// How reads end: a bounded read, a follower that keeps its files and stops at once, a stream that
/// stops reading when its consumer is behind.
extension KernelSuite {
    @Suite(.enabled(if: KernelFeatures.isRoot, "needs root"))
    struct ReadLifecycleTests {
        /// The file and file offset of libc's `malloc` in this process, from the mapping in
        /// `/proc/self/maps` that holds its address.
        static func mallocLocation() -> (file: String, offset: UInt64)? {
            guard let symbol = dlsym(nil, "malloc") else { return nil }
            let address = UInt64(UInt(bitPattern: symbol))
            let maps = readKernelFile("/proc/self/maps")
            guard !maps.isEmpty else { return nil }
            for line in maps.split(separator: "\n") {
                let parts = line.split(separator: " ", omittingEmptySubsequences: true)
                guard parts.count >= 6 else { continue }
                let bounds = parts[0].split(separator: "-")
                guard bounds.count == 2, let start = UInt64(bounds[0], radix: 16), let end = UInt64(bounds[1], radix: 16),
                      let offset = UInt64(parts[2], radix: 16), start <= address, address < end else { continue }
                return (String(parts[5]), address - start + offset)
            }
            return nil
        }

        @Test(.enabled(if: KernelFeatures.uprobes, "needs uprobes"))
        func aReadEndsWhileItsCallbackMakesRecordsOfTheTracedEvent() throws {
            let location = try #require(Self.mallocLocation())
            try TemporaryGroup.with("malloc") { group in
                let probe = try DynamicEvent.uprobe(system: group, event: "malloc", file: location.file,
                                                    offset: location.offset)
                try probe.create()
                defer { try? probe.destroy(force: true) }
                try Instance.withTemporary(named: TemporaryInstance.name("malloc")) { instance in
                    try instance.setBufferSize(kilobytes: 64)
                    let catalog = try EventCatalog.local(systems: [group])
                    try instance.enableEvent(system: group, event: "malloc")
                    defer { try? instance.disableEvent(system: group, event: nil) }
                    for _ in 0..<1_000 { free(malloc(64)) }
                    var count = 0
                    // Each record allocates, which makes more records of the event being read.
                    try instance.readRecords(using: catalog) { record in
                        count += 1
                        let texts = (0..<4).map { "record \($0) of \(record.format.name)" }
                        free(malloc(texts.count * 16))
                        return count < 1_000_000 ? .continue : .stop
                    }
                    #expect(count >= 1_000)
                    #expect(count < 1_000_000, "the read did not end by itself")
                }
            }
        }

        /// The `/proc/self/fd` entries open on this instance's `trace_pipe_raw` files.
        static func rawFiles(of instanceName: String) -> [String] {
            guard let directory = opendir("/proc/self/fd") else { return [] }
            defer { closedir(directory) }
            var found: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                var target = [CChar](repeating: 0, count: 512)
                let length = readlink("/proc/self/fd/" + name, &target, target.count - 1)
                guard length > 0 else { continue }
                let path = String(decoding: target[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if path.contains("/\(instanceName)/per_cpu/"), path.hasSuffix("/trace_pipe_raw") {
                    found.append(name + " -> " + path)
                }
            }
            return found.sorted()
        }

        @Test func aFollowerOpensEachFileOnceAndStopsAtOnce() throws {
            let name = TemporaryInstance.name("follow-open")
            try Instance.withTemporary(named: name) { instance in
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                let received = Atomic<Int>(0)
                let failure = Mutex<String?>(nil)
                let follower = TestThread.start {
                    do {
                        try instance.followRecords(using: catalog, pollInterval: .milliseconds(2)) { _ in
                            received.add(1, ordering: .relaxed)
                            return .continue
                        }
                    } catch {
                        failure.withLock { $0 = "\(error)" }
                    }
                }
                try instance.writeMarker("first")
                while received.load(ordering: .relaxed) < 1 { usleep(1_000) }
                let before = Self.rawFiles(of: name)
                // Many passes (2 ms apart) with records in between.
                for index in 0..<20 {
                    try instance.writeMarker("more \(index)")
                    usleep(10_000)
                }
                let after = Self.rawFiles(of: name)
                instance.stopFollowing()
                follower.join()
                #expect(failure.withLock { $0 } == nil)
                #expect(received.load(ordering: .relaxed) == 21)
                #expect(!before.isEmpty)
                #expect(before == after, "the same descriptors on the same files throughout")
                #expect(Set(before.map { $0.split(separator: ">").last! }).count == before.count, "each file once")
                #expect(Self.rawFiles(of: name).isEmpty, "closed when the follow ends")
            }
        }

        @Test func destroyingTheInstanceStopsItsFollowerWithoutAnError() throws {
            let catalog = try EventCatalog.local(systems: ["ftrace"])
            for round in 0..<25 {
                let instance = try Instance.create(named: TemporaryInstance.name("follow-destroy"))
                defer { try? instance.destroy() }
                let received = Atomic<Int>(0)
                let failure = Mutex<String?>(nil)
                let follower = TestThread.start {
                    do {
                        try instance.followRecords(using: catalog, pollInterval: .milliseconds(1)) { _ in
                            received.add(1, ordering: .relaxed)
                            return .continue
                        }
                    } catch {
                        failure.withLock { $0 = "\(error)" }
                    }
                }
                try instance.writeMarker("round \(round)")
                while received.load(ordering: .relaxed) < 1 { usleep(500) }
                try instance.destroy()
                follower.join()
                #expect(failure.withLock { $0 } == nil, "round \(round)")
                #expect(!instance.exists)
            }
        }

        @Test func aSlowStreamConsumerLeavesTheExcessToTheKernelAndSeesWhatWasLost() async throws {
            try await Instance.withTemporary(named: TemporaryInstance.name("backpressure")) { instance in
                try instance.setBufferSize(kilobytes: 64)
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                var records = instance.records(using: catalog, pollInterval: .milliseconds(2)).makeAsyncIterator()
                try instance.writeMarker("start")
                #expect(try await records.next()?.string("buf") == "start\n")
                // The consumer takes nothing while 100,000 records are written.
                let written = 100_000
                for index in 0..<written { try instance.writeMarker("m \(index)") }
                try instance.writeMarker("end")
                var count = 0
                var lost: Int64 = 0
                var gapsOfUnknownSize = 0
                while let record = try await records.next() {
                    if record.lostEventsBefore > 0 { lost += record.lostEventsBefore }
                    if record.lostEventsBefore < 0 { gapsOfUnknownSize += 1 }
                    if record.string("buf") == "end\n" { break }
                    count += 1
                }
                // What the stream may hold (batches ahead, one being filled) plus what the kernel's
                // 64 KiB per CPU holds of 32-byte entries.
                let bound = (RecordStream.maximumBatchesAhead + 1) * 4096 + 64 * 1024 / 32 * 4
                #expect(count < bound, "the reader kept reading while its consumer was behind")
                #expect(lost > 0 || gapsOfUnknownSize > 0)
                #expect(count + Int(lost) <= written)
            }
        }
    }
}
