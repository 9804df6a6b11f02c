import Testing
import TraceFS

/// The common ways to use a ``Record`` inside a reading callback, compiled here so that a change to
/// `Record` (or a compiler) that breaks one shows up in the build (issue 10 item 10). Capturing the
/// borrowed record in a closure kept in a local, or in a nested function, crashes Swift 6.3.1
/// (MoveOnlyChecker); the workarounds that Record's documentation gives are the ones used here.
extension KernelSuite {
    @Suite(.enabled(if: KernelFeatures.isRoot, "needs root"))
    struct RecordUsageTests {
        struct Print: Decodable, Equatable {
            let buf: String
        }

        /// A function taking the record as a `borrowing` parameter, instead of a nested one capturing it.
        static func line(_ record: borrowing Record) -> String {
            "\(record.format.name): \(record.string("buf") ?? "")"
        }

        @Test func fieldsDecodeCopyAndClosures() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("usage")) { instance in
                let catalog = try EventCatalog.local(systems: ["ftrace"])
                try instance.writeMarker("one")
                try instance.writeMarker("two")

                var lines: [String] = []
                var decoded: [Print] = []
                var kept: [TraceRecord] = []
                var describers: [() -> String] = []
                var fieldValues: [[UInt64?]] = []
                var lengths: [Int] = []
                try instance.readRecords(using: catalog) { record in
                    // Fields read in the callback, and through closures passed straight to calls.
                    lines.append(Self.line(record))
                    fieldValues.append(["ip", "common_pid", "nope"].map { record.unsigned($0) })
                    lengths.append(record.withUnsafeBytes(of: "buf") { $0.count + (record.pid > 0 ? 0 : 1) } ?? -1)
                    // Decoding into an own type.
                    decoded.append(try record.decode(Print.self))
                    // A nested function with the record as a parameter.
                    func text(of record: borrowing Record) -> String { record.string("buf") ?? "" }
                    #expect(text(of: record) == record.string("buf"))
                    // A kept closure captures values read from the record, or its copy.
                    let pid = record.pid
                    let copy = record.copy()
                    kept.append(copy)
                    describers.append { "\(pid) \(copy.string("buf") ?? "")" }
                    return .continue
                }
                #expect(lines == ["print: one\n", "print: two\n"])
                #expect(decoded == [Print(buf: "one\n"), Print(buf: "two\n")])
                #expect(kept.map { $0.string("buf") } == ["one\n", "two\n"])
                #expect(describers.map { $0() } == kept.map { "\($0.pid) \($0.string("buf") ?? "")" })
                #expect(fieldValues.allSatisfy { $0[0] != nil && $0[1] == UInt64(currentThreadID()) && $0[2] == nil })
                // `buf` is `char[]` to the end of the record: at least the text and its NUL.
                #expect(lengths.allSatisfy { $0 >= 5 })
            }
        }
    }
}
