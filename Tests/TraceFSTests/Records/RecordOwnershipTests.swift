import Synchronization
import Testing
import TraceFS

/// Records that outlive the ring buffer they came from: copies taken in a callback, and the
/// batches an `AsyncSequence` hands over, on real `trace_marker` writes.
extension KernelSuite {
    @Suite(.enabled(if: KernelFeatures.isRoot, "needs root"))
    struct RecordOwnershipTests {
        struct Print: Decodable, Equatable {
            let buf: String
            let common_pid: Int32
        }

        @Test func aCopyKeepsEveryFieldAfterTheBufferIsReused() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("copy")) { instance in
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                for index in 0..<3 { try instance.writeMarker("kept \(index)") }
                var copies: [TraceRecord] = []
                var seen: [(cpu: Int, timestamp: UInt64, pid: Int32)] = []
                try instance.readRecords(using: catalog) { record in
                    copies.append(record.copy())
                    seen.append((record.cpu, record.timestamp, record.pid))
                    return .continue
                }
                // Overwrite what the buffer pages held, then read the copies.
                for index in 0..<200 { try instance.writeMarker("overwrite \(index)") }
                try instance.readRecords(using: catalog) { _ in .continue }

                #expect(copies.map { $0.string("buf") } == (0..<3).map { "kept \($0)\n" })
                #expect(copies.map(\.cpu) == seen.map(\.cpu))
                #expect(copies.map(\.timestamp) == seen.map(\.timestamp))
                #expect(copies.allSatisfy { $0.pid == currentThreadID() && $0.format.name == "print" })
                #expect(try copies.first?.decode(Print.self) == Print(buf: "kept 0\n", common_pid: currentThreadID()))
            }
        }

        /// More records than several of the stream's batches hold: every one arrives once, in
        /// order, and records from earlier batches stay readable while later ones arrive.
        @Test func theAsyncSequenceHandsOverEveryRecordAcrossBatches() async throws {
            let count = 10_000
            try await Instance.withTemporary(named: TemporaryInstance.name("batches")) { instance in
                try instance.setBufferSize(kilobytes: 2048)
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                // No suspension point between here and the last write: one thread writes them all.
                let writer = currentThreadID()
                for index in 0..<count { try instance.writeMarker("record \(index)") }
                var received: [TraceRecord] = []
                var readerThreads = 0
                for try await record in instance.records(using: catalog, pollInterval: .milliseconds(5)) {
                    received.append(record)
                    if received.count == 1 { readerThreads = threadNames().filter { $0 == "tracefs-stream" }.count }
                    if received.count == count { break }
                }
                // The stream reads on a thread of its own, named so that `top -H` and debuggers show it.
                #expect(readerThreads == 1)
                let texts = received.map { $0.string("buf") ?? "<none>" }
                try #require(texts.count == count)
                // The first record that is not the one written at its place, if any (a short message
                // rather than two 10,000-element arrays).
                let wrong = texts.indices.first { texts[$0] != "record \($0)\n" }
                #expect(wrong == nil, "record \(wrong ?? -1) reads \(wrong.map { texts[$0] } ?? "")")
                #expect(received.allSatisfy { $0.pid == writer && $0.format.name == "print" })
                #expect(received.map(\.timestamp) == received.map(\.timestamp).sorted())
            }
        }
    }
}
