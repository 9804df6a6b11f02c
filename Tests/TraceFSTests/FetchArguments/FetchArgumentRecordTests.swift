import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// A uprobe by symbol with typed arguments on a program that calls a function with known values:
/// each argument's reader returns those values, as the argument's Swift type.
extension KernelSuite {
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && KernelFeatures.uprobes && SymbolTestPrograms.available,
                                 "needs root, uprobe events and cc"))
    struct FetchArgumentRecordTests {
        static let source = """
            #include <stdlib.h>
            struct swtf_pair { unsigned short low; short high; unsigned int bits; };
            __attribute__((noipa)) int swtf_args(unsigned long a, int b, const char *s, struct swtf_pair *p, const char **names) {
                return b * 3;
            }
            int main(int argc, char **argv) {
                struct swtf_pair pair = { 0xBEEF, -2, 0xA5u << 4 };
                const char *names[2] = { "ab", "cde" };
                int count = argc > 1 ? atoi(argv[1]) : 1;
                int sum = 0;
                for (int i = 0; i < count; i++) sum += swtf_args(0x1122334455667788UL + i, -42 - i, "hello", &pair, names);
                return sum == 0 ? 1 : 0;
            }
            """

        /// Built anew on each use (see ``FetchArgumentCheckTests/Case`` for why not a `static let`).
        static var arguments: [FetchArgument] { [
            FetchArgument("a", .register("di"), as: .unsigned(64)),
            FetchArgument("b", .register("si"), as: .signed(32)),
            FetchArgument("s", .dereference(offset: 0, .register("dx")), as: .string),
            FetchArgument("low", .dereference(offset: 0, .register("cx")), as: .hex(16)),
            FetchArgument("high", .dereference(offset: 2, .register("cx")), as: .signed(16)),
            FetchArgument("bits", .dereference(offset: 4, .register("cx")), as: .bitfield(width: 8, offset: 4, container: 32)),
            FetchArgument("bytes", .dereference(offset: 0, .register("cx")), as: .array(.unsigned(8), count: 4)),
            FetchArgument("command", .comm),
        ] }

        @Test func typedArgumentsReadBackAsTheValuesTheFunctionWasCalledWith() throws {
            let calls = 5
            try Self.withProgram { program in
                try TemporaryGroup.with("farec") { group in
                    let entry = try DynamicEvent.uprobe(system: group, file: program, symbol: "swtf_args",
                                                        arguments: Self.arguments)
                    let result = FetchArgument("result", .returnValue, as: .signed(32))
                    let exit = try DynamicEvent.uretprobe(system: group, event: "swtf_args_ret", file: program,
                                                          symbol: "swtf_args", arguments: [result])
                    try entry.create()
                    try exit.create()
                    defer {
                        try? entry.destroy(force: true)
                        try? exit.destroy(force: true)
                    }
                    var entries: [[String: Any]] = []
                    var results: [Int32] = []
                    try Instance.withTemporary(named: TemporaryInstance.name("farec")) { instance in
                        try instance.enableEvent(system: group, event: entry.event)
                        try instance.enableEvent(system: group, event: exit.event)
                        let run = ChildRun.run([program, "\(calls)"])
                        #expect(run.status == 0, "\(run.output)")
                        let catalog = try EventCatalog.local(systems: [group])
                        try instance.readRecords(using: catalog) { record in
                            if record.format.name == entry.event {
                                var values: [String: Any] = [:]
                                for argument in Self.arguments { values[argument.name] = argument.value(in: record) }
                                entries.append(values)
                            } else if let value = result.value(in: record, as: Int32.self) {
                                results.append(value)
                            }
                            return .continue
                        }
                        try instance.disableEvent(system: group, event: entry.event)
                        try instance.disableEvent(system: group, event: exit.event)
                    }
                    try #require(entries.count == calls)
                    for (index, values) in entries.enumerated() {
                        #expect(values["a"] as? UInt64 == 0x1122_3344_5566_7788 + UInt64(index))
                        #expect(values["b"] as? Int32 == -42 - Int32(index))
                        #expect(values["s"] as? String == "hello")
                        #expect(values["low"] as? UInt16 == 0xBEEF)
                        #expect(values["high"] as? Int16 == -2)
                        #expect(values["bits"] as? UInt32 == 0xA5)
                        #expect(values["bytes"] as? [UInt8] == [0xEF, 0xBE, 0xFE, 0xFF])
                        #expect(values["command"] as? String == "fa-program")
                    }
                    #expect(results == (0..<calls).map { (-42 - Int32($0)) * 3 })
                    // The wrong Swift type reads nothing rather than a converted value.
                    #expect(entries.allSatisfy { $0["a"] as? Int64 == nil })
                }
            }
        }

        static func withProgram(_ body: (String) throws -> Void) throws {
            var template = Array("/tmp/swtf_fetchargs_XXXXXX".utf8CString)
            guard let made = mkdtemp(&template) else { throw SymbolTestPrograms.BuildFailed(description: "mkdtemp failed") }
            let directory = String(cString: made)
            let source = directory + "/program.c", program = directory + "/fa-program"
            defer {
                unlink(source)
                unlink(program)
                rmdir(directory)
            }
            guard let file = fopen(source, "w") else { throw SymbolTestPrograms.BuildFailed(description: "cannot write \(source)") }
            fputs(Self.source, file)
            fclose(file)
            let build = ChildRun.run([SymbolTestPrograms.compiler, "-O1", "-o", program, source])
            guard build.status == 0 else { throw SymbolTestPrograms.BuildFailed(description: "cc: \(build.output)") }
            try body(program)
        }
    }
}
