import ExporterCore
import Foundation
import Testing
import TraceFS

@Suite("Rendering")
struct RenderingTests {
    @Test func escaping() {
        #expect(Exposition.escapeLabelValue("a\"b\\c\nd") == "a\\\"b\\\\c\\nd")
        #expect(Exposition.escapeHelp("x\\y\nz\"") == "x\\\\y\\nz\"")
        var out = Exposition()
        out.counter("c_total", help: "line\none", samples: [.init(labels: [("comm", "we\"ird\n#x")], value: 3)])
        #expect(out.text == "# HELP c_total line\\none\n# TYPE c_total counter\nc_total{comm=\"we\\\"ird\\n#x\"} 3\n")
    }

    @Test("an execname counter sums the rows of one command and applies static_map and regexp")
    func execnameCounter() throws {
        let table = try HistogramTable.parse(Support.fixture("hist-execname-6.1.txt"))
        let all = KernelMetrics.counterSamples(table, labels: [LabelRule(Label(name: "comm", field: "common_pid.execname"))])
        #expect(all == [.init(labels: [("comm", "cat")], value: 7), .init(labels: [("comm", "sh")], value: 3),
                        .init(labels: [("comm", "ls")], value: 16)])
        let rewritten = KernelMetrics.counterSamples(table, labels: [
            LabelRule(Label(name: "comm", field: "common_pid.execname", staticMap: ["sh": "shell"], regexp: ["sh|ls"])),
        ])
        #expect(rewritten == [.init(labels: [("comm", "shell")], value: 3), .init(labels: [("comm", "ls")], value: 16)])
        var out = Exposition()
        out.counter("opens_total", help: "Opens", samples: all)
        if Support.hasPromtool {
            let (status, output) = try Support.promtool(out.text)
            #expect(status == 0, "\(output)")
        }
    }

    @Test("log2 buckets become cumulative Prometheus buckets")
    func log2() throws {
        let table = try HistogramTable.parse(Support.fixture("hist-log2-6.1.txt"))
        let buckets = Buckets(layout: .exp2(min: 0, max: 16))
        let series = KernelMetrics.histogramSeries(table, bucketField: "bytes_req", buckets: buckets, labels: [], sumField: nil)
        let one = try #require(series.first)
        #expect(one.count == 5467)
        #expect(one.buckets.first { $0.0 == 4096 }?.1 == 5467 - 2 - 36)  // all but 2^13 and 2^19
        #expect(one.buckets.last?.1 == 5467 - 2)                          // 2^19 is above 2^16: only in +Inf
        #expect(zip(one.buckets, one.buckets.dropFirst()).allSatisfy { $0.1 <= $1.1 })
        var out = Exposition()
        out.histogram("kmalloc_bytes", help: "Sizes", series: series)
        #expect(out.text.contains("kmalloc_bytes_bucket{le=\"+Inf\"} 5467\n"))
        #expect(out.text.contains("kmalloc_bytes_count 5467\n"))
        if Support.hasPromtool {
            let (status, output) = try Support.promtool(out.text)
            #expect(status == 0, "\(output)\n\(out.text)")
        }
    }

    @Test("linear buckets, a multiplier, labels and a sum")
    func linearAndTwoKeys() throws {
        let linear = try HistogramTable.parse(Support.fixture("hist-buckets-6.1.txt"))
        let layout = Buckets(layout: .linear(size: 100, min: 0, max: 1000), multiplier: 0.001)
        let series = KernelMetrics.histogramSeries(linear, bucketField: "bytes_req", buckets: layout, labels: [], sumField: nil)
        let one = try #require(series.first)
        #expect(one.buckets.first?.0 == 0.099)
        #expect(one.buckets.first?.1 == 3052)
        #expect(one.count == 5471)

        let twoKeys = try HistogramTable.parse(Support.fixture("hist-twokeys-6.1.txt"))
        let byComm = KernelMetrics.histogramSeries(
            twoKeys, bucketField: "bytes_req", buckets: Buckets(layout: .exp2(min: 5, max: 20)),
            labels: [LabelRule(Label(name: "comm", field: "common_pid.execname"))], sumField: "bytes_alloc")
        #expect(Set(byComm.map { $0.labels.first?.1 ?? "" }) == ["sh", "ls", "cat"])
        #expect(byComm.allSatisfy { $0.sum != nil })
        var out = Exposition()
        out.histogram("linear_seconds", help: nil, series: series)
        out.histogram("alloc_bytes", help: "Allocated \"bytes\"", series: byComm)
        if Support.hasPromtool {
            let (status, output) = try Support.promtool(out.text)
            #expect(status == 0, "\(output)\n\(out.text)")
        }
    }
}
