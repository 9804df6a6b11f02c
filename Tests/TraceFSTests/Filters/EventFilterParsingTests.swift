import Testing
import TraceFS

@Suite struct EventFilterParsingTests {
    @Test(arguments: [
        ("common_pid == 42", "common_pid == 42"),
        ("a == 1 && b != 2 || c < 3", "(a == 1&&b != 2)||c < 3"),
        ("a == 1 && (b != 2 || c < 3)", "a == 1&&(b != 2||c < 3)"),
        ("!(ret < 0)", "!(ret < 0)"),
        (#"file ~ "/etc/*""#, #"file~"/etc/*""#),
        ("comm == bash", #"comm == "bash""#),
        ("flags & 0x40", "flags & 64"),
        ("ret >= -1", "ret >= -1"),
        ("addr == 0xffffffffffffffff", "addr == 18446744073709551615"),
        ("mode == 0644", "mode == 420"),
        ("  ( ( x <= 1 ) ) ", "x <= 1"),
    ])
    func parsesTheKernelsSyntax(text: String, expected: String) throws {
        #expect(try EventFilter(parsing: text).description == expected)
    }

    @Test func keepsTreeShape() throws {
        let filter = try EventFilter(parsing: "a == 1 || b == 2 && !c == 3")
        #expect(filter == .or(.compare(field: "a", .equal, 1),
                              .and(.compare(field: "b", .equal, 2), .not(.compare(field: "c", .equal, 3)))))
        #expect(try EventFilter(parsing: "s == 'it\"s'") == .compare(field: "s", .equal, .string("it\"s")))
    }

    @Test(arguments: ["", "a ==", "== 1", "(a == 1", "a == 1)", "a 1", "a == 1 &&", "a == \"open",
                      "a == 12x", "a == 1 b == 2", "1 == a", "a && b"])
    func refusesMalformedFilters(text: String) {
        #expect(throws: TraceFSError.self) { try EventFilter(parsing: text) }
        do { _ = try EventFilter(parsing: text) } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.reason.contains("column"), "\(error)")
        }
    }
}
