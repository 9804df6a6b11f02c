import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// Every way a symbol lookup fails: a typed error that says what to do, thrown before anything
    /// is written (`dynamic_events` is unchanged).
    @Suite(.serialized, .enabled(if: SymbolTestPrograms.available, "builds test programs: on the host, not under TCG"))
    struct SymbolErrorTests {
        /// The error `make` throws, checked to leave `dynamic_events` as it was.
        static func refusal(_ make: () throws(TraceFSError) -> DynamicEvent) throws -> TraceFSError {
            let before = DynamicEventsFile.lines()
            let error = try #require(throws: TraceFSError.self) { _ = try make() }
            #expect(DynamicEventsFile.lines() == before)
            #expect(!error.description.contains("\n"))
            return error
        }

        @Test func aMissingFileIsNotFound() throws {
            let error = try Self.refusal { () throws(TraceFSError) in
                try DynamicEvent.uprobe(system: "swtest_sym", file: "/nonexistent/program", symbol: "main")
            }
            #expect(error.code == .notFound)
            #expect(error.description.contains("/nonexistent/program"))
        }

        @Test func aFileThatIsNotELFIsInvalid() throws {
            try SymbolTestPrograms.with { programs in
                for file in [programs.text, "/etc/hostname"] where access(file, R_OK) == 0 {
                    let error = try Self.refusal { () throws(TraceFSError) in
                        try DynamicEvent.uprobe(system: "swtest_sym", file: file, symbol: "main")
                    }
                    #expect(error.code == .invalidArgument)
                    #expect(error.reason.contains("not an ELF file"), "\(error)")
                }
                let object = try Self.refusal { () throws(TraceFSError) in
                    try DynamicEvent.uprobe(system: "swtest_sym", file: programs.object, symbol: "swtf_target")
                }
                #expect(object.code == .invalidArgument)
                #expect(object.reason.contains("relocatable object"))
            }
        }

        @Test func aFileWithoutSymbolTablesIsStripped() throws {
            try SymbolTestPrograms.with { programs in
                #expect(!Readelf.hasSection(".symtab", in: programs.stripped))
                #expect(!Readelf.hasSection(".dynsym", in: programs.stripped))
                let error = try Self.refusal { () throws(TraceFSError) in
                    try DynamicEvent.uprobe(system: "swtest_sym", file: programs.stripped, symbol: "_start")
                }
                #expect(error.code == .invalidArgument)
                #expect(error.reason.contains("is stripped"))
                #expect(error.reason.contains("file offset"))
            }
        }

        @Test func anUnknownSymbolNamesSimilarOnes() throws {
            let libc = try #require(SystemLibC.path)
            let error = try Self.refusal { () throws(TraceFSError) in
                try DynamicEvent.uprobe(system: "swtest_sym", file: libc, symbol: "mallocc")
            }
            #expect(error.code == .notFound)
            #expect(error.reason.contains("similar names: malloc"), "\(error)")
            let suggestions = try #require(error.reason.split(separator: "similar names: ").last?.split(separator: ";").first)
            #expect(suggestions.split(separator: ",").count <= 5)

            try SymbolTestPrograms.with { programs in
                let typo = try Self.refusal { () throws(TraceFSError) in
                    try DynamicEvent.uprobe(system: "swtest_sym", file: programs.program(.pie), symbol: "swtf_targt")
                }
                #expect(typo.code == .notFound)
                #expect(typo.reason.contains("similar names: swtf_target"), "\(typo)")
                // Names are exact: case matters.
                let upper = try Self.refusal { () throws(TraceFSError) in
                    try DynamicEvent.uprobe(system: "swtest_sym", file: programs.program(.pie), symbol: "SWTF_TARGET")
                }
                #expect(upper.code == .notFound)
                let nothing = try Self.refusal { () throws(TraceFSError) in
                    try DynamicEvent.uprobe(system: "swtest_sym", file: programs.program(.pie), symbol: "qqqqqqqqqqqqqqqq")
                }
                #expect(nothing.reason.contains("no similar names"))
            }
        }

        @Test func aFunctionTheFileOnlyImportsIsNotFoundInIt() throws {
            // /bin/true is stripped to .dynsym, which defines no function: malloc is libc's.
            #expect(!Readelf.hasSection(".symtab", in: "/bin/true"))
            #expect(Readelf.hasSection(".dynsym", in: "/bin/true"))
            let error = try Self.refusal { () throws(TraceFSError) in
                try DynamicEvent.uprobe(system: "swtest_sym", file: "/bin/true", symbol: "malloc")
            }
            #expect(error.code == .notFound)
            #expect(error.reason.contains("imports it"))
        }

        @Test(arguments: ["environ", "stdout"])
        func aDataSymbolIsNotAFunction(symbol: String) throws {
            let libc = try #require(SystemLibC.path)
            let error = try Self.refusal { () throws(TraceFSError) in
                try DynamicEvent.uprobe(system: "swtest_sym", file: libc, symbol: symbol)
            }
            #expect(error.code == .invalidArgument)
            #expect(error.reason.contains("data object (OBJECT), not a function"), "\(error)")
            try SymbolTestPrograms.with { programs in
                let data = try Self.refusal { () throws(TraceFSError) in
                    try DynamicEvent.uretprobe(system: "swtest_sym", file: programs.program(.nonPIE), symbol: "swtf_data")
                }
                #expect(data.code == .invalidArgument)
            }
        }

        @Test func anOffsetPastTheFunctionsEndIsInvalid() throws {
            let libc = try #require(SystemLibC.path)
            let size = try #require(Readelf.symbols(named: "malloc", in: libc).first?.size)
            _ = try DynamicEvent.uprobe(system: "swtest_sym", file: libc, symbol: "malloc", offset: size - 1)
            let error = try Self.refusal { () throws(TraceFSError) in
                try DynamicEvent.uprobe(system: "swtest_sym", file: libc, symbol: "malloc", offset: size)
            }
            #expect(error.code == .invalidArgument)
            #expect(error.reason.contains("past the end"))
            #expect(error.reason.contains("\(size) bytes"))
        }

        @Test func aNameWithSeveralAddressesListsThem() throws {
            try SymbolTestPrograms.with { programs in
                let file = programs.program(.pie)
                let twins = Readelf.symbols(named: "swtf_twin", in: file)
                #expect(twins.count == 2)
                let error = try Self.refusal { () throws(TraceFSError) in
                    try DynamicEvent.uprobe(system: "swtest_sym", file: file, symbol: "swtf_twin")
                }
                #expect(error.code == .invalidArgument)
                for twin in twins {
                    let offset = try #require(Readelf.fileOffset(ofAddress: twin.value, in: file))
                    #expect(error.reason.contains("file offset 0x\(String(offset, radix: 16))"), "\(error)")
                }
            }
            let libc = try #require(SystemLibC.path)
            let versions = try Self.refusal { () throws(TraceFSError) in
                try DynamicEvent.uprobe(system: "swtest_sym", file: libc, symbol: "realpath")
            }
            #expect(versions.code == .invalidArgument)
            #expect(versions.reason.contains("realpath@@GLIBC_"), "\(versions)")
            #expect(versions.reason.contains("with its version"))
            let unknownVersion = try Self.refusal { () throws(TraceFSError) in
                try DynamicEvent.uprobe(system: "swtest_sym", file: libc, symbol: "malloc@GLIBC_9.9")
            }
            #expect(unknownVersion.code == .notFound)
            #expect(unknownVersion.reason.contains("not in that version"))
        }

        @Test(arguments: ["malloc\n", "malloc\np:swtest_evil/e /bin/true:0x10", "mal#loc", "malloc #x", "", "mal loc",
                          "malloc\u{0}", "mallöc"])
        func aMalformedSymbolIsRefusedBeforeTheFileIsRead(symbol: String) throws {
            let error = try Self.refusal { () throws(TraceFSError) in
                // The file does not exist: the symbol is checked first.
                try DynamicEvent.uprobe(system: "swtest_sym", file: "/nonexistent/program", symbol: symbol)
            }
            #expect(error.code == .invalidArgument)
            #expect(error.function == nil)
            #expect(error.reason.contains("symbol"), "\(error)")
        }
    }
}
