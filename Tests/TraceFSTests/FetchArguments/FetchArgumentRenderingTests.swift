import Testing
import TraceFS

/// Every fetch value and type renders as exactly the kernel's text, and reads back as its Swift type.
@Suite struct FetchArgumentRenderingTests {
    @Test(arguments: [
        (FetchValue.register("di"), "%di"),
        (.register("orig_ax"), "%orig_ax"),
        (.argument(1), "$arg1"),
        (.argument(12), "$arg12"),
        (.returnValue, "$retval"),
        (.stackEntry(0), "$stack0"),
        (.stackEntry(31), "$stack31"),
        (.stackAddress, "$stack"),
        (.comm, "$comm"),
        (.symbol("jiffies"), "@jiffies"),
        (.symbol("init_task", offset: 16), "@init_task+16"),
        (.symbol("init_task", offset: -8), "@init_task-8"),
        (.address(0xFFFF_FFFF_8100_0000), "@0xffffffff81000000"),
        (.address(0), "@0x0"),
        (.fileOffset(0x10), "@+0x10"),
        (.fileOffset(0), "@+0x0"),
        (.dereference(offset: 0, .register("di")), "+0(%di)"),
        (.dereference(offset: 8, .register("sp")), "+8(%sp)"),
        (.dereference(offset: -16, .register("bp")), "-16(%bp)"),
        (.dereference(offset: 8, .dereference(offset: 0, .argument(2))), "+8(+0($arg2))"),
        (.dereference(offset: 4, .fileOffset(0x20)), "+4(@+0x20)"),
        (.dereference(offset: 0, .stackEntry(1)), "+0($stack1)"),
        (.userDereference(offset: 0, .argument(2)), "+u0($arg2)"),
        (.userDereference(offset: -4, .register("si")), "-u4(%si)"),
        (.dereference(offset: 0, .userDereference(offset: 24, .field("filename"))), "+0(+u24($filename))"),
        (.immediate(42), "\\42"),
        (.immediate(-5), "\\-5"),
        (.field("filename"), "$filename"),
    ] as [(FetchValue, String)])
    func valuesRenderAsTheKernelWritesThem(value: FetchValue, text: String) {
        #expect(value.description == text)
    }

    @Test(arguments: [
        (FetchType.unsigned(8), "u8", UInt8.self as Any.Type),
        (.unsigned(16), "u16", UInt16.self), (.unsigned(32), "u32", UInt32.self), (.unsigned(64), "u64", UInt64.self),
        (.signed(8), "s8", Int8.self), (.signed(16), "s16", Int16.self), (.signed(32), "s32", Int32.self),
        (.signed(64), "s64", Int64.self),
        (.hex(8), "x8", UInt8.self), (.hex(16), "x16", UInt16.self), (.hex(32), "x32", UInt32.self),
        (.hex(64), "x64", UInt64.self),
        (.string, "string", String.self), (.userString, "ustring", String.self), (.symbol, "symbol", UInt64.self),
        (.bitfield(width: 3, offset: 2, container: 32), "b3@2/32", UInt32.self),
        (.bitfield(width: 8, offset: 0, container: 8), "b8@0/8", UInt8.self),
        (.bitfield(width: 1, offset: 63, container: 64), "b1@63/64", UInt64.self),
        (.array(.unsigned(8), count: 4), "u8[4]", [UInt8].self),
        (.array(.signed(16), count: 64), "s16[64]", [Int16].self),
        (.array(.hex(32), count: 1), "x32[1]", [UInt32].self),
        (.array(.string, count: 2), "string[2]", [String].self),
        (.array(.userString, count: 3), "ustring[3]", [String].self),
        (.array(.symbol, count: 2), "symbol[2]", [UInt64].self),
        (.array(.bitfield(width: 4, offset: 0, container: 16), count: 2), "b4@0/16[2]", [UInt16].self),
    ] as [(FetchType, String, Any.Type)])
    func typesRenderAsTheKernelWritesThemAndReadAsTheirSwiftType(type: FetchType, text: String, swiftType: Any.Type) {
        #expect(type.description == text)
        #expect(ObjectIdentifier(type.swiftType) == ObjectIdentifier(swiftType))
    }

    @Test func argumentsRenderNameValueAndType() {
        #expect(FetchArgument("size", .register("di"), as: .unsigned(64)).description == "size=%di:u64")
        #expect(FetchArgument("file", .dereference(offset: 0, .argument(2)), as: .userString).description
            == "file=+0($arg2):ustring")
        #expect(FetchArgument("flags", .dereference(offset: 0, .argument(3)), as: .hex(64)).description
            == "flags=+0($arg3):x64")
        #expect(FetchArgument("command", .comm).description == "command=$comm")
        #expect(FetchArgument("raw", .register("ax")).description == "raw=%ax")
        #expect(FetchArgument("bytes", .dereference(offset: 8, .dereference(offset: 0, .register("sp"))),
                              as: .array(.unsigned(32), count: 4)).description == "bytes=+8(+0(%sp)):u32[4]")
    }

    @Test func defaultTypesReadAsTheKernelStoresThem() {
        #expect(ObjectIdentifier(FetchArgument("raw", .register("ax")).swiftType) == ObjectIdentifier(UInt64.self))
        #expect(ObjectIdentifier(FetchArgument("command", .comm).swiftType) == ObjectIdentifier(String.self))
        #expect(ObjectIdentifier(FetchArgument("stack", .stackAddress).swiftType) == ObjectIdentifier(UInt64.self))
    }

    @Test func aValidListPassesTheChecksForEachKindThatHasItsValues() throws {
        let common = [
            FetchArgument("a", .register("di"), as: .unsigned(8)),
            FetchArgument("b", .stackEntry(2), as: .signed(32)),
            FetchArgument("c", .stackAddress),
            FetchArgument("d", .comm, as: .string),
            FetchArgument("e", .dereference(offset: 0, .register("si")), as: .array(.hex(16), count: 64)),
            FetchArgument("f", .dereference(offset: -8, .register("sp")), as: .bitfield(width: 5, offset: 3, container: 8)),
            FetchArgument("h", .immediate(-1), as: .signed(8)),
        ]
        for kind: DynamicEvent.Kind in [.kprobe, .kretprobe, .uprobe, .uretprobe] {
            try FetchArgument.check(common, for: kind)
        }
        try FetchArgument.check([FetchArgument("r", .returnValue, as: .signed(64))], for: .kretprobe)
        try FetchArgument.check([FetchArgument("r", .returnValue, as: .signed(64))], for: .uretprobe)
        try FetchArgument.check([FetchArgument("a", .argument(1)), FetchArgument("s", .symbol("jiffies"), as: .symbol),
                                 FetchArgument("u", .userDereference(offset: 0, .argument(2)), as: .userString)],
                                for: .kprobe)
        try FetchArgument.check([FetchArgument("o", .fileOffset(0x10), as: .array(.unsigned(8), count: 2))], for: .uprobe)
        try FetchArgument.check([FetchArgument("f", .field("filename"), as: .string),
                                 FetchArgument("p", .dereference(offset: 0, .field("filename")), as: .userString),
                                 FetchArgument("c", .comm), FetchArgument("j", .symbol("jiffies"), as: .unsigned(64))],
                                for: .eprobe)
        let names = (0..<FetchArgument.maximumCount).map { FetchArgument("a\($0)", .register("ax")) }
        try FetchArgument.check(names, for: .uprobe)
        let longest = String(repeating: "n", count: FetchArgument.maximumNameLength)
        try FetchArgument.check([FetchArgument(longest, .register("ax"))], for: .uprobe)
    }
}
