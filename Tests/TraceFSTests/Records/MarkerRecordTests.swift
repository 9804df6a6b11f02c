import Synchronization
import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Records from real `trace_marker` writes (`ftrace/print`), read back through libtracefs.
extension KernelSuite {
    @Suite(.enabled(if: KernelFeatures.isRoot, "needs root"))
    struct MarkerRecordTests {
        struct Print: Decodable, Equatable {
            let buf: String
            let ip: UInt64
            let common_pid: Int32
        }

        struct MissingField: Decodable {
            let buf: String
            let nope: Int
        }

        struct WrongType: Decodable {
            let buf: Int
        }

        struct Raw: Decodable {
            let buf: [UInt8]
            let common_preempt_count: UInt8
            let common_type: Bool
            let nope: Int?
        }

        struct TooNarrow: Decodable {
            let ip: UInt8
        }

        @Test func readsMarkersInOrderWithTheirFields() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("read")) { instance in
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                for index in 0..<100 { try instance.writeMarker("marker \(index)") }

                var texts: [String] = []
                var timestamps: [UInt64] = []
                try instance.readRecords(using: catalog) { record in
                    #expect(record.format.system == "ftrace")
                    #expect(record.format.name == "print")
                    #expect(record.pid == currentThreadID())
                    texts.append(record.string("buf") ?? "<none>")
                    timestamps.append(record.timestamp)
                    return .continue
                }
                #expect(texts == (0..<100).map { "marker \($0)\n" })
                #expect(timestamps == timestamps.sorted())
                // Reading consumed them (and an empty read of an instance with nothing enabled says so).
                var left = 0
                #expect(throws: TraceFSError.self) {
                    try instance.readRecords(using: catalog) { _ in left += 1; return .continue }
                }
                #expect(left == 0)
            }
        }

        @Test func theCatalogDescribesFieldsWithTheirTypes() throws {
            let catalog = try EventCatalog.local(systems: ["ftrace"])
            let print = try catalog.event(system: "ftrace", name: "print")
            #expect(print.fields.map(\.name) == ["ip", "buf"])
            #expect(print.field(named: "ip")?.kind == .unsignedInteger)
            #expect(print.field(named: "buf")?.kind == .string)
            #expect(print.field(named: "common_pid")?.kind == .signedInteger)
            let error = try #require(throws: TraceFSError.self) { try catalog.event(system: "ftrace", name: "nope") }
            #expect(error.code == .notFound)
        }

        @Test func decodesBytesBoolsAndOptionalsAndRefusesValuesThatDoNotFit() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("decode-kinds")) { instance in
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                try instance.writeMarker("bytes")
                var raw: Raw?
                var tooNarrow: TraceFSError?
                var byHand: (ip: UInt64?, preempt: UInt64?, similarName: String?, longName: UInt64?)?
                var inPlace: (text: [UInt8]?, missing: Int?)?
                try instance.readRecords(using: catalog) { record in
                    raw = try record.decode(Raw.self)
                    tooNarrow = #expect(throws: TraceFSError.self) { try record.decode(TooNarrow.self) }
                    byHand = (record.unsigned("ip"), record.unsigned("common_preempt_count"), record.string("bug"),
                              record.unsigned("common_preempt_countx"))
                    inPlace = (record.withUnsafeBytes(of: "buf") { Array($0.prefix(6)) },
                               record.withUnsafeBytes(of: "nope") { $0.count })
                    return .continue
                }
                // `buf` is `char[]` running to the end of the record: the text, its NUL, and padding.
                #expect(raw.map { Array($0.buf.prefix(6)) } == Array("bytes\n".utf8))
                #expect(raw?.common_type == true)
                #expect(raw?.nope == nil)
                #expect(raw.map { UInt64($0.common_preempt_count) } == byHand?.preempt)
                #expect(tooNarrow?.code == .decodingFailed)
                #expect(tooNarrow?.reason.contains("field 'ip'") == true)
                #expect(tooNarrow?.reason.contains("does not fit UInt8") == true)
                #expect(byHand?.ip.map { $0 > 0xFF } == true)
                #expect(byHand?.similarName == nil)
                #expect(byHand?.longName == nil)
                #expect(inPlace?.text == Array("bytes\n".utf8))
                #expect(inPlace?.missing == nil)
            }
        }

        @Test func stopsEarlyAndLeavesTheRestInTheBuffer() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("stop")) { instance in
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                for index in 0..<10 { try instance.writeMarker("m\(index)") }
                var seen = 0
                try instance.readRecords(using: catalog) { _ in
                    seen += 1
                    return seen == 3 ? .stop : .continue
                }
                #expect(seen == 3)
            }
        }

        @Test func anErrorThrownByTheCallbackStopsReadingAndIsRethrown() throws {
            struct Enough: Error {}
            try Instance.withTemporary(named: TemporaryInstance.name("throw")) { instance in
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                for index in 0..<5 { try instance.writeMarker("m\(index)") }
                var seen = 0
                #expect(throws: Enough.self) {
                    try instance.readRecords(using: catalog) { _ in
                        seen += 1
                        throw Enough()
                    }
                }
                #expect(seen == 1)
            }
        }

        @Test func decodesRecordsIntoStructsAndNamesTheFieldThatFails() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("decode")) { instance in
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                try instance.writeMarker("decode me")
                var decoded: [Print] = []
                var missing: TraceFSError?
                var mismatch: TraceFSError?
                try instance.readRecords(using: catalog) { record in
                    decoded.append(try record.decode(Print.self))
                    missing = #expect(throws: TraceFSError.self) { try record.decode(MissingField.self) }
                    mismatch = #expect(throws: TraceFSError.self) { try record.decode(WrongType.self) }
                    return .continue
                }
                #expect(decoded.count == 1)
                #expect(decoded.first?.buf == "decode me\n")
                #expect(decoded.first?.common_pid == currentThreadID())
                #expect(decoded.first.map { $0.ip != 0 } == true)
                #expect(missing?.code == .decodingFailed)
                #expect(missing?.reason.contains("no field 'nope'") == true)
                #expect(mismatch?.code == .decodingFailed)
                #expect(mismatch?.reason.contains("field 'buf'") == true)
            }
        }

        @Test func followModeIsStoppedFromAnotherTask() async throws {
            try await Instance.withTemporary(named: TemporaryInstance.name("follow")) { instance in
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                let seen = Atomic<Int>(0)
                let follower = Task.detached {
                    try instance.followRecords(using: catalog, pollInterval: .milliseconds(5)) { _ in
                        seen.add(1, ordering: .relaxed)
                        return .continue
                    }
                }
                for index in 0..<20 {
                    try instance.writeMarker("live \(index)")
                    try await Task.sleep(for: .milliseconds(2))
                }
                while seen.load(ordering: .relaxed) < 20 { try await Task.sleep(for: .milliseconds(5)) }
                instance.stopFollowing()
                try await follower.value
                #expect(seen.load(ordering: .relaxed) == 20)
            }
        }

        @Test func theAsyncSequenceYieldsRecordsAndEndsOnCancellation() async throws {
            try await Instance.withTemporary(named: TemporaryInstance.name("stream")) { instance in
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                for index in 0..<5 { try instance.writeMarker("async \(index)") }
                let received = Mutex<[String]>([])
                let consumer = Task {
                    for try await record in instance.records(using: catalog, pollInterval: .milliseconds(5)) {
                        let text = record.string("buf") ?? ""
                        received.withLock { $0.append(text) }
                    }
                    return "ended"
                }
                while received.withLock({ $0.count }) < 5 { try await Task.sleep(for: .milliseconds(5)) }
                consumer.cancel()
                #expect(try await consumer.value == "ended")
                #expect(received.withLock { $0 } == (0..<5).map { "async \($0)\n" })
            }
        }

        @Test func leavingTheLoopStopsTheReader() async throws {
            try await Instance.withTemporary(named: TemporaryInstance.name("break")) { instance in
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                for index in 0..<3 { try instance.writeMarker("b\(index)") }
                var first: TraceRecord?
                for try await record in instance.records(using: catalog) {
                    first = record
                    break
                }
                #expect(first?.string("buf") == "b0\n")
                #expect(first?.format.name == "print")
                // The stream's reader has stopped: it takes nothing written after the loop.
                for index in 0..<50 { try instance.writeMarker("after \(index)") }
                try await Task.sleep(for: .milliseconds(50))
                var after: [String] = []
                try instance.readRecords(using: catalog) { record in
                    after.append(record.string("buf") ?? "")
                    return .continue
                }
                #expect(after == (0..<50).map { "after \($0)\n" })
            }
        }
    }
}
