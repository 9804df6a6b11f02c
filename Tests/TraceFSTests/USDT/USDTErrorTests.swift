import Testing
@_spi(Tools) @testable import TraceFS

#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// Every way describing a USDT probe fails: a typed error that says what to do, thrown before
    /// anything is written (`dynamic_events` is unchanged).
    @Suite(.serialized, .enabled(if: USDTTestPrograms.available, "builds test programs: on the host, not under TCG"))
    struct USDTErrorTests {
        static func refusal(_ make: () throws(TraceFSError) -> DynamicEvent) throws -> TraceFSError {
            let before = DynamicEventsFile.lines()
            let error = try #require(throws: TraceFSError.self) { _ = try make() }
            #expect(DynamicEventsFile.lines() == before)
            #expect(!error.description.contains("\n"))
            return error
        }

        static let python = USDTTestPrograms.python

        @Test func anUnknownProbeListsTheFilesProbes() throws {
            let error = try Self.refusal { () throws(TraceFSError) in
                try DynamicEvent.usdt(system: "swtest_usdt", file: Self.python, provider: "python", name: "function_entry")
            }
            #expect(error.code == .notFound)
            #expect(error.reason.contains("similar: python:function__entry"), "\(error)")
            #expect(error.reason.contains("python:gc__start"))
            let provider = try Self.refusal { () throws(TraceFSError) in
                try DynamicEvent.usdt(system: "swtest_usdt", file: Self.python, provider: "Python", name: "function__entry")
            }
            #expect(provider.code == .notFound)
        }

        @Test func aFileWithoutNotesIsRefused() throws {
            try USDTTestPrograms.with { programs in
                let error = try Self.refusal { () throws(TraceFSError) in
                    try DynamicEvent.usdt(system: "swtest_usdt", file: programs.withoutNotes, provider: "p", name: "n")
                }
                #expect(error.code == .invalidArgument)
                #expect(error.reason.contains("no USDT probes"))
            }
            let missing = try Self.refusal { () throws(TraceFSError) in
                try DynamicEvent.usdt(system: "swtest_usdt", file: "/nonexistent/python", provider: "python", name: "line")
            }
            #expect(missing.code == .notFound)
        }

        @Test(arguments: ["function__entry\n-:sdt_python/x", "function__entry#", "", "a b"])
        func aHostileNameIsRefused(name: String) throws {
            let error = try Self.refusal { () throws(TraceFSError) in
                try DynamicEvent.usdt(system: "swtest_usdt", file: Self.python, provider: "python", name: name)
            }
            #expect(error.code == .invalidArgument)
            let provider = try Self.refusal { () throws(TraceFSError) in
                try DynamicEvent.usdt(system: "swtest_usdt", file: Self.python, provider: name, name: "line")
            }
            #expect(provider.code == .invalidArgument)
        }

        @Test(arguments: [["a", "b"], ["a", "a", "b"], ["a", "b\n", "c"], ["a", "b#", "c"], ["common_pid", "b", "c"]])
        func badArgumentNamesAreRefused(names: [String]) throws {
            let error = try Self.refusal { () throws(TraceFSError) in
                try DynamicEvent.usdt(system: "swtest_usdt", file: Self.python, provider: "python", name: "function__entry",
                                      argumentNames: names)
            }
            #expect(error.code == .invalidArgument)
        }

        @Test func aUserStringMustBeAFetchedPointer() throws {
            let line = try Self.refusal { () throws(TraceFSError) in
                try DynamicEvent.usdt(system: "swtest_usdt", file: Self.python, provider: "python", name: "function__entry",
                                      argumentNames: ["file", "function", "line"], userStrings: ["line"])
            }
            #expect(line.reason.contains("not a pointer"), "\(line)")
            let unknown = try Self.refusal { () throws(TraceFSError) in
                try DynamicEvent.usdt(system: "swtest_usdt", file: Self.python, provider: "python", name: "function__entry",
                                      userStrings: ["file"])
            }
            #expect(unknown.reason.contains("not one of the fetched arguments"), "\(unknown)")
        }

        @Test func anArgumentTheKernelCannotFetchIsRefusedOrLeftOut() throws {
            let probe = try #require(try USDTProbe.all(in: Self.python).first { $0.name == "function__entry" })
            let broken = USDTProbe(copying: probe, arguments: ["8@%rbp", "8@(%rax,%rbx,8)", "-4@%eax"])
            let error = try Self.refusal { () throws(TraceFSError) in
                try DynamicEvent.usdt(system: "swtest_usdt", probe: broken)
            }
            #expect(error.reason.contains("indexed addressing"), "\(error)")
            #expect(error.reason.contains("empty name"))
            let omitted = try DynamicEvent.usdt(system: "swtest_usdt", probe: broken, argumentNames: ["a", "", "c"])
            #expect(omitted.format == "a=%bp:u64 c=%ax:s32")
        }
    }
}

extension USDTProbe {
    /// `probe` with other arguments, to try forms that real notes rarely have.
    init(copying probe: USDTProbe, arguments: [String]) {
        self.init(file: probe.file, provider: probe.provider, name: probe.name, location: probe.location,
                  base: probe.base, semaphore: probe.semaphore, arguments: arguments.map { USDTArgument(Substring($0)) },
                  address: probe.address, semaphoreAddress: probe.semaphoreAddress, fileOffset: probe.fileOffset,
                  semaphoreFileOffset: probe.semaphoreFileOffset)
    }
}
