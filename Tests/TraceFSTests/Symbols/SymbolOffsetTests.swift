import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Uprobes by symbol land on the file offsets `readelf` gives: the symbol's value moved into its
/// `PT_LOAD` segment (`value - p_vaddr + p_offset`). Describing a probe writes nothing to the kernel.
@Suite(.enabled(if: SymbolTestPrograms.available, "builds test programs: on the host, not under TCG"))
struct SymbolOffsetTests {
    /// The offset readelf's output gives for `symbol` in `file` (its only definition).
    static func expectedOffset(of symbol: String, in file: String, plus offset: UInt64 = 0) throws -> UInt64 {
        let symbols = Readelf.symbols(named: symbol, in: file)
        let value = try #require(Set(symbols.map(\.value)).count == 1 ? symbols.first?.value : nil,
                                 "readelf lists \(symbols) for \(symbol)")
        return try #require(Readelf.fileOffset(ofAddress: value + offset, in: file))
    }

    @Test(arguments: SymbolTestPrograms.Build.allCases)
    func aProgramsFunctionIsAtTheOffsetReadelfGives(build: SymbolTestPrograms.Build) throws {
        try SymbolTestPrograms.with { programs in
            let file = programs.program(build)
            let expected = try Self.expectedOffset(of: "swtf_target", in: file)
            let entry = try DynamicEvent.uprobe(system: "swtest_sym", file: file, symbol: "swtf_target")
            let exit = try DynamicEvent.uretprobe(system: "swtest_sym", event: "ret", file: file, symbol: "swtf_target")
            #expect(probeOffset(entry.address) == expected)
            #expect(probeOffset(exit.address) == expected)
            #expect(entry.event == "swtf_target")
            #expect(exit.kind == .uretprobe)
            #expect(entry.address?.hasPrefix(file + ":") == true)
            // A non-PIE executable's addresses are absolute (0x401000 and up): the offset is not the address.
            let value = try #require(Readelf.symbols(named: "swtf_target", in: file).first?.value)
            if build == .nonPIE { #expect(value >= 0x400000 && expected < value) }
        }
    }

    @Test func anAliasAtTheSameAddressIsTheSameFunction() throws {
        try SymbolTestPrograms.with { programs in
            let file = programs.program(.pie)
            let target = try DynamicEvent.uprobe(system: "swtest_sym", file: file, symbol: "swtf_target")
            let alias = try DynamicEvent.uprobe(system: "swtest_sym", file: file, symbol: "swtf_alias")
            #expect(probeOffset(alias.address) == probeOffset(target.address))
            #expect(alias.event == "swtf_alias")
        }
    }

    @Test func anOffsetIntoTheFunctionIsAddedToItsEntry() throws {
        try SymbolTestPrograms.with { programs in
            let file = programs.program(.nonPIE)
            let size = try #require(Readelf.symbols(named: "swtf_target", in: file).first?.size)
            #expect(size > 1)
            let probe = try DynamicEvent.uprobe(system: "swtest_sym", event: "inside", file: file, symbol: "swtf_target",
                                                offset: size - 1)
            #expect(probeOffset(probe.address) == (try Self.expectedOffset(of: "swtf_target", in: file, plus: size - 1)))
        }
    }

    @Test func libcMallocInDynsymIsAtTheOffsetReadelfGives() throws {
        let libc = try #require(SystemLibC.path)
        // Debian's libc is stripped: only .dynsym, where readelf prints "malloc@@GLIBC_2.2.5".
        #expect(!Readelf.hasSection(".symtab", in: libc))
        #expect(Readelf.symbols(named: "malloc", in: libc).map(\.name) == ["malloc@@GLIBC_2.2.5"])
        let expected = try Self.expectedOffset(of: "malloc", in: libc)
        let probe = try DynamicEvent.uprobe(file: libc, symbol: "malloc", fetchArgs: "size=%di:u64")
        #expect(probeOffset(probe.address) == expected)
        #expect(probe.system == "uprobes")
        #expect(probe.event == "malloc")
        let versioned = try DynamicEvent.uprobe(event: "malloc_v", file: libc, symbol: "malloc@@GLIBC_2.2.5")
        #expect(probeOffset(versioned.address) == expected)
        let free = try DynamicEvent.uretprobe(file: libc, symbol: "free")
        #expect(probeOffset(free.address) == (try Self.expectedOffset(of: "free", in: libc)))
    }

    @Test func aVersionPicksOneOfTwoDefinitions() throws {
        let libc = try #require(SystemLibC.path)
        let versions = Readelf.symbols(named: "realpath", in: libc)
        try #require(versions.count == 2, "this libc has one realpath: \(versions)")
        for version in versions {
            let probe = try DynamicEvent.uprobe(event: "realpath", file: libc, symbol: version.name)
            #expect(probeOffset(probe.address) == Readelf.fileOffset(ofAddress: version.value, in: libc), "\(version.name)")
        }
        // readelf's "@" form also finds the default version.
        let current = try #require(versions.first { $0.name.contains("@@") })
        let single = "realpath@" + current.name.drop { $0 != "@" }.drop { $0 == "@" }
        #expect(probeOffset(try DynamicEvent.uprobe(event: "realpath", file: libc, symbol: single).address)
            == Readelf.fileOffset(ofAddress: current.value, in: libc))
    }

    @Test func anIndirectFunctionResolvesToItsResolver() throws {
        let libc = try #require(SystemLibC.path)
        let ifuncs = Readelf.symbols(named: "strlen", in: libc).filter { $0.type == "IFUNC" }
        try #require(ifuncs.count == 1, "strlen in this libc: \(Readelf.symbols(named: "strlen", in: libc))")
        let probe = try DynamicEvent.uprobe(file: libc, symbol: "strlen")
        #expect(probeOffset(probe.address) == Readelf.fileOffset(ofAddress: ifuncs[0].value, in: libc))
    }
}
