import Testing
import TraceFS

/// Every kind of bad input gets a typed error before anything reaches the kernel.
extension KernelSuite {
    @Suite(.enabled(if: KernelFeatures.isRoot, "needs root"))
    struct BadInputTests {
        struct Case: CustomTestStringConvertible, Sendable {
            let label: String
            let expected: TraceFSError.Code
            let attempt: @Sendable () throws -> Void
            var testDescription: String { label }
        }

        static let file = UprobeTarget.path
        static let injection = "x=%ax\np:swtest_evil/evil /bin/true:0x100"

        static let cases: [Case] = [
            Case(label: "newline in a uprobe's fetch args", expected: .invalidArgument) {
                try DynamicEvent.uprobe(system: "swtest_bad", event: "e", file: file, offset: 0x100, fetchArgs: injection).create()
            },
            Case(label: "newline in a kprobe's format", expected: .invalidArgument) {
                try DynamicEvent.kprobe(system: "swtest_bad", event: "e", address: "do_sys_openat2", format: injection).create()
            },
            Case(label: "newline in an event name", expected: .invalidArgument) {
                try DynamicEvent.uprobe(system: "swtest_bad", event: "e\n-:swtest_keep/x", file: file, offset: 0x100).create()
            },
            Case(label: "slash in a group name", expected: .invalidArgument) {
                try DynamicEvent.uprobe(system: "swtest/bad", event: "e", file: file, offset: 0x100).create()
            },
            Case(label: "'-:' as a group name", expected: .invalidArgument) {
                try DynamicEvent.uprobe(system: "-:", event: "e", file: file, offset: 0x100).create()
            },
            Case(label: "empty event name", expected: .invalidArgument) {
                try DynamicEvent.uprobe(system: "swtest_bad", event: "", file: file, offset: 0x100).create()
            },
            Case(label: "65-character event name", expected: .invalidArgument) {
                try DynamicEvent.uprobe(system: "swtest_bad", event: String(repeating: "e", count: 65), file: file, offset: 0x100).create()
            },
            Case(label: "non-ASCII event name", expected: .invalidArgument) {
                try DynamicEvent.uprobe(system: "swtest_bad", event: "événement", file: file, offset: 0x100).create()
            },
            Case(label: "space in a file path", expected: .invalidArgument) {
                try DynamicEvent.uprobe(system: "swtest_bad", event: "e", file: "/bin/true /bin/false", offset: 0x100).create()
            },
            Case(label: "newline in a file path", expected: .invalidArgument) {
                try DynamicEvent.uretprobe(system: "swtest_bad", event: "e", file: "/bin/true\n", offset: 0x100).create()
            },
            Case(label: "missing file", expected: .notFound) {
                try DynamicEvent.uprobe(system: "swtest_bad", event: "e", file: "/no/such/file", offset: 0).create()
            },
            Case(label: "a directory as the file", expected: .invalidArgument) {
                try DynamicEvent.uprobe(system: "swtest_bad", event: "e", file: "/bin", offset: 0).create()
            },
            Case(label: "offset past the end", expected: .invalidArgument) {
                try DynamicEvent.uprobe(system: "swtest_bad", event: "e", file: file, offset: .max).create()
            },
            Case(label: "space in a kprobe address", expected: .invalidArgument) {
                try DynamicEvent.kprobe(system: "swtest_bad", event: "e", address: "do_sys_openat2 x=%ax").create()
            },
            Case(label: "kprobe address with %return", expected: .invalidArgument) {
                try DynamicEvent.kprobe(system: "swtest_bad", event: "e", address: "vfs_read%return").create()
            },
            Case(label: "empty kprobe address", expected: .invalidArgument) {
                try DynamicEvent.kprobe(system: "swtest_bad", event: "e", address: "").create()
            },
            Case(label: "kretprobe maxActive over 4096", expected: .invalidArgument) {
                try DynamicEvent.kretprobe(system: "swtest_bad", event: "e", address: "do_sys_openat2", maxActive: 5000).create()
            },
            Case(label: "eprobe target with a newline", expected: .invalidArgument) {
                try DynamicEvent.eprobe(system: "swtest_bad", event: "e", targetSystem: "sched\n", targetEvent: "sched_switch").create()
            },
            Case(label: "one-shot kprobe with a tab in the format", expected: .invalidArgument) {
                try DynamicEvent.createKprobe(system: "swtest_bad", event: "e", address: "do_sys_openat2", format: "a=%ax\tb=%bx")
            },
            Case(label: "format longer than the kernel reads", expected: .invalidArgument) {
                try DynamicEvent.uprobe(system: "swtest_bad", event: "e", file: file, offset: 0x100,
                                        fetchArgs: Array(repeating: "a=%ax", count: 800).joined(separator: " ")).create()
            },
            Case(label: "'#' in a uprobe's fetch args", expected: .invalidArgument) {
                try DynamicEvent.uprobe(system: "swtest_bad", event: "e", file: file, offset: 0x100, fetchArgs: "a=%ax#b=%bx").create()
            },
            Case(label: "'#' in a uretprobe's fetch args", expected: .invalidArgument) {
                try DynamicEvent.uretprobe(system: "swtest_bad", event: "e", file: file, offset: 0x100, fetchArgs: "#").create()
            },
            Case(label: "'#' in a kprobe's format", expected: .invalidArgument) {
                try DynamicEvent.kprobe(system: "swtest_bad", event: "e", address: "vfs_read", format: "a=$arg1 #b=$arg2").create()
            },
            Case(label: "'#' in a kretprobe's format", expected: .invalidArgument) {
                try DynamicEvent.kretprobe(system: "swtest_bad", event: "e", address: "vfs_read", format: "r=$retval#").create()
            },
            Case(label: "'#' in a kprobe address", expected: .invalidArgument) {
                try DynamicEvent.kprobe(system: "swtest_bad", event: "e", address: "vfs_read#x").create()
            },
            Case(label: "'#' in a one-shot kprobe's format", expected: .invalidArgument) {
                try DynamicEvent.createKprobe(system: "swtest_bad", event: "e", address: "vfs_read", format: "a=$arg1#")
            },
            Case(label: "'#' in a one-shot kretprobe's format", expected: .invalidArgument) {
                try DynamicEvent.createKretprobe(system: "swtest_bad", event: "e", address: "vfs_read", format: "#r=$retval")
            },
            Case(label: "'#' in an eprobe's fetch args", expected: .invalidArgument) {
                try DynamicEvent.eprobe(system: "swtest_bad", event: "e", targetSystem: "sched", targetEvent: "sched_switch",
                                        fetchArgs: "p=$prev_pid#").create()
            },
            Case(label: "'#' in an eprobe's target", expected: .invalidArgument) {
                try DynamicEvent.eprobe(system: "swtest_bad", event: "e", targetSystem: "sched#", targetEvent: "sched_switch").create()
            },
            Case(label: "64-character group name", expected: .invalidArgument) {
                try DynamicEvent.uprobe(system: String(repeating: "g", count: 64), event: "e", file: file, offset: 0x100).create()
            },
            Case(label: "/proc/self/exe as the file", expected: .invalidArgument) {
                try DynamicEvent.uprobe(system: "swtest_bad", event: "e", file: "/proc/self/exe", offset: 0x100).create()
            },
            Case(label: "instance name with a slash", expected: .invalidArgument) {
                _ = try Instance.create(named: "../evil")
            },
            Case(label: "listing with a newline in the group", expected: .invalidArgument) {
                _ = try DynamicEvent.all(system: "a\nb")
            },
        ]

        @Test(arguments: cases)
        func isRejectedBeforeAnythingIsWritten(_ badInput: Case) throws {
            let before = DynamicEventsFile.lines()
            let instances = try Instance.names()
            let error = try #require(throws: TraceFSError.self) { try badInput.attempt() }
            #expect(error.code == badInput.expected, "\(error)")
            #expect(error.function == nil || error.function == "stat", "the C library was called: \(error)")
            #expect(!error.reason.isEmpty)
            #expect(DynamicEventsFile.lines() == before)
            #expect(try Instance.names() == instances)
        }

        @Test func messagesShowControlCharactersEscaped() throws {
            let error = try #require(throws: TraceFSError.self) {
                try DynamicEvent.uprobe(system: "swtest_bad", event: "a\nb", file: Self.file, offset: 0x100)
            }
            #expect(error.description.contains("'a\\nb'"))
            #expect(error.description.contains("a newline"))
            #expect(!error.description.contains("\n"))
            #expect(error.description.contains("EventName.sanitized"))
        }

        @Test(arguments: ["\u{202E}", "\u{2066}", "\u{200F}", "\u{061C}", "\u{85}", "\u{9B}"])
        func messagesShowBidiAndC1ControlsEscaped(control: String) throws {
            let error = try #require(throws: TraceFSError.self) {
                try DynamicEvent.uprobe(system: "swtest_bad", event: "evil\(control)txt", file: Self.file, offset: 0x100)
            }
            let scalar = try #require(control.unicodeScalars.first)
            #expect(!error.description.unicodeScalars.contains(scalar), "\(error)")
            #expect(error.description.contains("\\u{\(String(scalar.value, radix: 16))}"), "\(error)")
        }
    }
}
