import Testing
import TraceFS

/// Field handles on real `trace_marker` records (`ftrace/print`): the same values as by name, on
/// records of their own event and (looked up by name) of another one.
extension KernelSuite {
    @Suite(.enabled(if: KernelFeatures.isRoot, "needs root"))
    struct FieldHandleTests {
        @Test func handlesReadWhatNamesReadInBothOrdersAndOnCopies() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("handle")) { instance in
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                let print = try catalog.event(system: "ftrace", name: "print")
                let buf = try print.handle(forField: "buf")
                let ip = try print.handle(forField: "ip")
                let pid = try print.handle(forField: "common_pid")
                #expect(buf.description == "ftrace/print.buf")
                for order in [RecordOrder.timestamp, .perCPU] {
                    for index in 0..<50 { try instance.writeMarker("handle \(index)") }
                    var texts: [String] = []
                    var copies: [TraceRecord] = []
                    try instance.readRecords(using: catalog, order: order) { record in
                        texts.append(record.string(buf) ?? "<none>")
                        #expect(record.unsigned(ip) == record.unsigned("ip"))
                        #expect(record.signed(pid) == Int64(record.pid))
                        #expect(record.bytes(buf) == record.bytes("buf"))
                        #expect(record.value(buf) == record.value("buf"))
                        #expect(record.withUnsafeBytes(of: buf) { $0.count } == record.withUnsafeBytes(of: "buf") { $0.count })
                        copies.append(record.copy())
                        return .continue
                    }
                    #expect(texts.sorted() == (0..<50).map { "handle \($0)\n" }.sorted(), "\(order)")
                    #expect(copies.map { $0.string(buf) } == texts)
                }
            }
        }

        @Test func aHandleOfAnotherEventIsLookedUpByNameAndAMissingFieldIsNil() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("handle-other")) { instance in
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                // ftrace/bprint has an `ip` like print's, and a `fmt` that print lacks.
                let bprint = try catalog.event(system: "ftrace", name: "bprint")
                let ip = try bprint.handle(forField: "ip")
                let fmt = try bprint.handle(forField: "fmt")
                try instance.writeMarker("other")
                var seen = 0
                try instance.readRecords(using: catalog) { record in
                    seen += 1
                    #expect(record.format.name == "print")
                    #expect(record.unsigned(ip) != nil)
                    #expect(record.unsigned(ip) == record.unsigned("ip"))
                    #expect(record.unsigned(fmt) == nil)
                    #expect(record.withUnsafeBytes(of: fmt) { $0.count } == nil)
                    return .continue
                }
                #expect(seen == 1)
            }
        }

        @Test func anUnknownFieldIsRefusedWithTheEventsFields() throws {
            let catalog = try EventCatalog.local(systems: ["ftrace"])
            let print = try catalog.event(system: "ftrace", name: "print")
            let error = try #require(throws: TraceFSError.self) { try print.handle(forField: "bufx") }
            #expect(error.code == .notFound)
            #expect("\(error)".contains("buf, "), "\(error)")
            #expect("\(error)".contains("common_pid"), "\(error)")
        }
    }
}
