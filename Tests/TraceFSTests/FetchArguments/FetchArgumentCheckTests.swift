import Testing
import TraceFS

/// Typed fetch arguments the kernel would refuse are refused before anything is written, with an
/// `invalidArgument` error that names the argument.
extension KernelSuite {
    @Suite(.enabled(if: KernelFeatures.isRoot, "needs root"))
    struct FetchArgumentCheckTests {
        /// The arguments are built when a test asks for them, not kept in the static list: Swift
        /// keeps an indirect enum's case in spare bits of the pointer to its box, which
        /// LeakSanitizer does not take for a pointer, so `FetchValue` trees held until exit are
        /// reported as leaked (seen in `make check`).
        struct Case: CustomTestStringConvertible, Sendable {
            let label: String
            let kind: DynamicEvent.Kind
            private let makeArguments: @Sendable () -> [FetchArgument]
            /// A word the message must contain besides the argument's text.
            let because: String
            var arguments: [FetchArgument] { makeArguments() }
            var testDescription: String { label }

            init(_ label: String, _ kind: DynamicEvent.Kind, _ arguments: @autoclosure @escaping @Sendable () -> [FetchArgument],
                 because: String) {
                self.label = label
                self.kind = kind
                makeArguments = arguments
                self.because = because
            }
        }

        static let cases: [Case] = [
            Case("empty name", .uprobe, [FetchArgument("", .register("ax"))], because: "empty"),
            Case("name with a space", .uprobe, [FetchArgument("a b", .register("ax"))], because: "C identifier"),
            Case("name with a newline", .uprobe, [FetchArgument("a\np:swtest_evil/e /bin/true:0x10", .register("ax"))],
                 because: "C identifier"),
            Case("name starting with a digit", .uprobe, [FetchArgument("1a", .register("ax"))], because: "start"),
            Case("33-character name", .uprobe, [FetchArgument(String(repeating: "n", count: 33), .register("ax"))],
                 because: "33"),
            Case("common_pid", .uprobe, [FetchArgument("common_pid", .register("ax"))], because: "common_"),
            Case("__probe_ip", .uretprobe, [FetchArgument("__probe_ip", .register("ax"))], because: "__probe_"),
            Case("a repeated name", .uprobe, [FetchArgument("a", .register("ax")), FetchArgument("a", .register("bx"))],
                 because: "repeats"),
            Case("129 arguments", .uprobe, (0...128).map { FetchArgument("a\($0)", .register("ax")) }, because: "128"),
            Case("unknown register", .uprobe, [FetchArgument("r", .register("eax"))], because: "register"),
            Case("register with a newline", .uprobe, [FetchArgument("r", .register("ax\n-:uprobes/x"))], because: "register"),
            Case("32-bit register name", .kprobe, [FetchArgument("r", .register("r8d"))], because: "register"),
            Case("segment register of x86-32", .uprobe, [FetchArgument("r", .register("fs"))], because: "register"),
            Case("$retval on a uprobe", .uprobe, [FetchArgument("r", .returnValue)], because: "uretprobe"),
            Case("$retval on a kprobe", .kprobe, [FetchArgument("r", .returnValue)], because: "kretprobe"),
            Case("$argN on a uprobe", .uprobe, [FetchArgument("a", .argument(1))], because: "register"),
            Case("$argN on a kretprobe", .kretprobe, [FetchArgument("a", .argument(1))], because: "$argN"),
            Case("$arg0", .kprobe, [FetchArgument("a", .argument(0))], because: "from 1"),
            Case("negative stack entry", .uprobe, [FetchArgument("s", .stackEntry(-1))], because: "from 0"),
            Case("kprobe stack entry past the stack", .kprobe, [FetchArgument("s", .stackEntry(2049))], because: "2048"),
            Case("kernel symbol on a uprobe", .uprobe, [FetchArgument("s", .symbol("jiffies"))], because: "kernel symbols"),
            Case("symbol name with a space", .kprobe, [FetchArgument("s", .symbol("jiffies x"))], because: "symbol name"),
            Case("file offset on a kprobe", .kprobe, [FetchArgument("o", .fileOffset(16))], because: "uprobes"),
            Case("+u dereference on a uprobe", .uprobe,
                 [FetchArgument("u", .userDereference(offset: 0, .register("di")))], because: ".dereference"),
            Case("field on a uprobe", .uprobe, [FetchArgument("f", .field("filename"))], because: "eprobes only"),
            Case("register on an eprobe", .eprobe, [FetchArgument("r", .register("ax"))], because: "registers"),
            Case("stack on an eprobe", .eprobe, [FetchArgument("s", .stackAddress)], because: "stack"),
            Case("bad field name", .eprobe, [FetchArgument("f", .field("file name"))], because: "field name"),
            Case("nested register in a dereference", .eprobe,
                 [FetchArgument("f", .dereference(offset: 0, .register("di")))], because: "registers"),
            Case("u12", .uprobe, [FetchArgument("a", .register("ax"), as: .unsigned(12))], because: "8, 16, 32 or 64"),
            Case("s128", .uprobe, [FetchArgument("a", .register("ax"), as: .signed(128))], because: "8, 16, 32 or 64"),
            Case("x0", .uprobe, [FetchArgument("a", .register("ax"), as: .hex(0))], because: "8, 16, 32 or 64"),
            Case("bitfield wider than its container", .uprobe,
                 [FetchArgument("b", .register("ax"), as: .bitfield(width: 8, offset: 1, container: 8))], because: "fit"),
            Case("bitfield of width 0", .uprobe,
                 [FetchArgument("b", .register("ax"), as: .bitfield(width: 0, offset: 0, container: 8))], because: "fit"),
            Case("bitfield in a 24-bit container", .uprobe,
                 [FetchArgument("b", .register("ax"), as: .bitfield(width: 1, offset: 0, container: 24))],
                 because: "container"),
            Case("array of 65", .uprobe,
                 [FetchArgument("a", .dereference(offset: 0, .register("di")), as: .array(.unsigned(8), count: 65))],
                 because: "64"),
            Case("array of 0", .uprobe,
                 [FetchArgument("a", .dereference(offset: 0, .register("di")), as: .array(.unsigned(8), count: 0))],
                 because: "1 to 64"),
            Case("array of arrays", .uprobe,
                 [FetchArgument("a", .dereference(offset: 0, .register("di")),
                                as: .array(.array(.unsigned(8), count: 2), count: 2))], because: "arrays of arrays"),
            Case("array of strings", .uprobe,
                 [FetchArgument("a", .dereference(offset: 0, .register("di")), as: .array(.string, count: 2))],
                 because: "libtraceevent"),
            Case("array of user strings", .kprobe,
                 [FetchArgument("a", .dereference(offset: 0, .register("di")), as: .array(.userString, count: 1))],
                 because: "libtraceevent"),
            Case("array over a user dereference", .kprobe,
                 [FetchArgument("a", .userDereference(offset: 0, .argument(2)), as: .array(.unsigned(8), count: 4))],
                 because: "6.1"),
            Case("array of a register", .uprobe,
                 [FetchArgument("a", .register("di"), as: .array(.unsigned(8), count: 2))], because: "memory"),
            Case("string of a register", .uprobe, [FetchArgument("s", .register("di"), as: .string)], because: "memory"),
            Case("ustring of the stack", .kprobe, [FetchArgument("s", .stackEntry(1), as: .userString)], because: "memory"),
            Case("string of a constant", .uprobe, [FetchArgument("s", .immediate(1), as: .string)], because: "memory"),
            Case("$comm as a number", .uprobe, [FetchArgument("c", .comm, as: .unsigned(64))], because: "$comm"),
            Case("$comm dereferenced", .uprobe, [FetchArgument("c", .dereference(offset: 0, .comm))], because: "dereferenced"),
            Case("$comm user-dereferenced", .kprobe, [FetchArgument("c", .userDereference(offset: 8, .comm), as: .string)],
                 because: "dereferenced"),
            Case("$comm as ustring", .uprobe, [FetchArgument("c", .comm, as: .userString)], because: "$comm"),
            Case("symbol type on a uprobe", .uprobe, [FetchArgument("s", .register("ip"), as: .symbol)],
                 because: "kernel probes"),
            Case("symbol array on a uretprobe", .uretprobe,
                 [FetchArgument("s", .dereference(offset: 0, .register("sp")), as: .array(.symbol, count: 2))],
                 because: "kernel probes"),
            Case("an expression over 63 characters", .uprobe,
                 [FetchArgument("d", (0..<16).reduce(FetchValue.register("di")) { base, _ in .dereference(offset: 0, base) })],
                 because: "63"),
        ]

        @Test(arguments: cases)
        func refusedBeforeWriting(_ test: Case) throws {
            let before = DynamicEventsFile.lines(ofGroup: "swtest_fa") + DynamicEventsFile.lines(ofGroup: "swtest_evil")
            let error = try #require(throws: TraceFSError.self) {
                try FetchArgumentCheckTests.describe(test.kind, test.arguments).create()
            }
            #expect(error.code == .invalidArgument)
            #expect(error.function == nil, "refused by \(error.function ?? "") rather than by the checks")
            #expect(error.description.contains("fetch argument"), "\(error)")
            #expect(error.description.contains(test.because), "\(error)")
            #expect(!error.description.contains("\n"), "\(error)")
            #expect(DynamicEventsFile.lines(ofGroup: "swtest_fa") + DynamicEventsFile.lines(ofGroup: "swtest_evil") == before)
            #expect(throws: TraceFSError.self) { try FetchArgument.check(test.arguments, for: test.kind) }
        }

        @Test func argumentsAfterAnOffsetHaveNoArgN() throws {
            let error = try #require(throws: TraceFSError.self) {
                try DynamicEvent.kprobe(system: "swtest_fa", event: "e", address: "do_sys_openat2+0x4",
                                        arguments: [FetchArgument("a", .argument(1))])
            }
            #expect(error.description.contains("offset"), "\(error)")
            _ = try DynamicEvent.kprobe(system: "swtest_fa", event: "e", address: "do_sys_openat2+0",
                                        arguments: [FetchArgument("a", .argument(1))])
        }

        static func describe(_ kind: DynamicEvent.Kind, _ arguments: [FetchArgument]) throws(TraceFSError) -> DynamicEvent {
            switch kind {
            case .kprobe:
                try DynamicEvent.kprobe(system: "swtest_fa", event: "e", address: "do_sys_openat2", arguments: arguments)
            case .kretprobe:
                try DynamicEvent.kretprobe(system: "swtest_fa", event: "e", address: "do_sys_openat2", arguments: arguments)
            case .uprobe:
                try DynamicEvent.uprobe(system: "swtest_fa", event: "e", file: UprobeTarget.path, offset: UprobeTarget.offset,
                                        arguments: arguments)
            case .uretprobe:
                try DynamicEvent.uretprobe(system: "swtest_fa", event: "e", file: UprobeTarget.path,
                                           offset: UprobeTarget.offset, arguments: arguments)
            case .eprobe, .synthetic:
                try DynamicEvent.eprobe(system: "swtest_fa", event: "e", targetSystem: "syscalls",
                                        targetEvent: "sys_enter_openat", arguments: arguments)
            }
        }
    }
}
