import Testing
import TraceFS

extension KernelSuite {
    /// Bad histogram definitions are refused before anything is written, on every kernel (bad
    /// input is reported before whether the kernel has histograms at all).
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot, "needs root"))
    struct HistogramBadInputTests {
        struct Case: Sendable, CustomTestStringConvertible {
            let label: String
            let keys: [Histogram.Key]
            var values: [String] = []
            var sortKeys: [Histogram.SortKey] = []
            var name: String? = nil
            var filter: EventFilter? = nil
            let expected: String
            var testDescription: String { label }
        }

        static let cases: [Case] = [
            Case(label: "unknown key", keys: [Histogram.Key("no_such")], expected: "its fields are: call_site, ptr, bytes_req"),
            Case(label: "no keys", keys: [], expected: "at least one key"),
            Case(label: "modifier in the name", keys: [Histogram.Key("bytes_req.log2")], expected: "is not a field name"),
            Case(label: "newline in a key", keys: [Histogram.Key("bytes_req\n")], expected: "is not a field name"),
            Case(label: "execname on another field", keys: [Histogram.Key("bytes_req", .execname)], expected: "common_pid only"),
            Case(label: "zero buckets", keys: [Histogram.Key("bytes_req", .buckets(size: 0))], expected: "must be at least 1"),
            Case(label: "negative buckets", keys: [Histogram.Key("bytes_req", .buckets(size: -5))], expected: "must be at least 1"),
            Case(label: "huge buckets", keys: [Histogram.Key("bytes_req", .buckets(size: Int(Int32.max) + 1))],
                 expected: "must be at least 1"),
            Case(label: "modifier on a stack trace", keys: [Histogram.Key("stacktrace", .log2)], expected: "takes no modifier"),
            Case(label: "four keys", keys: [Histogram.Key("bytes_req"), Histogram.Key("bytes_alloc"), Histogram.Key("ptr"),
                                            Histogram.Key("call_site")], expected: "at most 3 key fields"),
            Case(label: "unknown value", keys: [Histogram.Key("bytes_req")], values: ["nope"], expected: "has no field 'nope'"),
            Case(label: "three sort keys", keys: [Histogram.Key("bytes_req")], values: ["bytes_alloc"],
                 sortKeys: [.hitCount(), Histogram.SortKey("bytes_req"), Histogram.SortKey("bytes_alloc")],
                 expected: "at most 2 keys"),
            Case(label: "sort key with its modifier", keys: [Histogram.Key("bytes_req", .log2)],
                 sortKeys: [Histogram.SortKey("bytes_req.log2")], expected: "use one of: hitcount, bytes_req"),
            Case(label: "newline in the name", keys: [Histogram.Key("bytes_req")], name: "a\nb", expected: "histogram name"),
            Case(label: "filter on an unknown field", keys: [Histogram.Key("bytes_req")],
                 filter: EventFilter.field("nope") == 1, expected: "has no field 'nope'"),
            Case(label: "filter comparing a number with a string", keys: [Histogram.Key("bytes_req")],
                 filter: EventFilter.field("bytes_req") == "big", expected: "is a number"),
        ]

        @Test(arguments: cases)
        func refusedBeforeAnythingIsWritten(bad: Case) throws {
            try Instance.withTemporary(named: TemporaryInstance.name("histbad")) { instance in
                let trigger = try #require(instance.directory) + "/events/kmem/kmalloc/trigger"
                let before = readKernelFile(trigger)
                let error = try #require(throws: TraceFSError.self) {
                    _ = try Histogram(in: instance, system: "kmem", event: "kmalloc", keys: bad.keys, values: bad.values,
                                      sortedBy: bad.sortKeys, name: bad.name, filter: bad.filter)
                }
                #expect(error.code == .invalidArgument)
                #expect(error.function == nil, "\(error)")
                #expect(error.description.contains(bad.expected), "\(error)")
                #expect(readKernelFile(trigger) == before)
            }
        }

        @Test func anUnknownEventIsNotFound() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("histbad")) { instance in
                let error = try #require(throws: TraceFSError.self) {
                    _ = try Histogram(in: instance, system: "kmem", event: "no_such_event", keys: [Histogram.Key("x")])
                }
                #expect(error.code == .notFound)
            }
        }
    }
}
