import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// `USDTProbe.all(in:)` against `readelf -n`, on Debian's Python and libstdc++ and on programs the
/// tests build; file offsets against `readelf`'s segments and sections.
@Suite(.enabled(if: USDTTestPrograms.available, "builds test programs: on the host, not under TCG"))
struct USDTListingTests {
    /// Every note readelf lists, in order, with the same fields and arguments.
    func expectSameAsReadelf(_ file: String) throws -> [USDTProbe] {
        let probes = try USDTProbe.all(in: file)
        let expected = ReadelfNotes.probes(in: file)
        #expect(!expected.isEmpty, "readelf lists no stapsdt notes in \(file)")
        #expect(probes.count == expected.count)
        for (probe, note) in zip(probes, expected) {
            #expect(probe.file == file)
            #expect(probe.provider == note.provider)
            #expect(probe.name == note.name)
            #expect(probe.location == note.location)
            #expect(probe.base == note.base)
            #expect(probe.semaphore == note.semaphore)
            #expect(probe.arguments.map(\.spec) == note.arguments)
            // Not prelinked: .stapsdt.base is where the notes say.
            #expect(ReadelfNotes.section(".stapsdt.base", in: file)?.address == note.base)
            #expect(probe.address == note.location)
            #expect(probe.fileOffset == Readelf.fileOffset(ofAddress: note.location, in: file))
            if note.semaphore == 0 {
                #expect(probe.semaphoreAddress == nil && probe.semaphoreFileOffset == nil && !probe.hasSemaphore)
            } else {
                let section = try #require(ReadelfNotes.section(".probes", in: file))
                #expect(probe.semaphoreAddress == note.semaphore)
                #expect(probe.semaphoreFileOffset == note.semaphore - section.address + section.offset)
            }
        }
        return probes
    }

    @Test func pythonsProbesAreListedAsReadelfListsThem() throws {
        let probes = try expectSameAsReadelf(USDTTestPrograms.python)
        let entry = try #require(probes.first { $0.provider == "python" && $0.name == "function__entry" })
        #expect(entry.hasSemaphore)
        #expect(entry.arguments.count == 3)
        #expect(entry.arguments.allSatisfy { $0.fetchArgument != nil })
        #expect(entry.arguments[0].userStringFetchArgument != nil)
        #expect(entry.arguments[2].isSigned && entry.arguments[2].size == 4)
    }

    @Test func libstdcxxsProbesHaveNoSemaphore() throws {
        let probes = try expectSameAsReadelf(USDTTestPrograms.libstdcxx)
        let names = Set(probes.map(\.name))
        #expect(names.isSuperset(of: ["throw", "catch"]))
        #expect(probes.allSatisfy { $0.provider == "libstdcxx" && !$0.hasSemaphore })
    }

    @Test(arguments: SymbolTestPrograms.Build.allCases)
    func aBuiltProgramsProbesAreListed(build: SymbolTestPrograms.Build) throws {
        try USDTTestPrograms.with { programs in
            let probes = try expectSameAsReadelf(programs.probes(build))
            let values = try #require(probes.first { $0.name == "values" })
            #expect(values.provider == "swtf")
            #expect(values.arguments.count == 4)
            #expect(values.arguments[2].operand == .constant(5), "\(values.arguments[2].spec)")
            #expect(values.arguments.allSatisfy { $0.refusal == nil }, "\(values.arguments.compactMap(\.refusal))")
            let guarded = try #require(probes.first { $0.name == "guarded" })
            #expect(guarded.hasSemaphore)
            #expect(!values.hasSemaphore)
        }
    }

    @Test func aFileWithoutNotesHasNoProbes() throws {
        try USDTTestPrograms.with { programs in
            let probes = try USDTProbe.all(in: programs.withoutNotes)
            #expect(probes.isEmpty)
        }
    }

    @Test func aPrelinkedFilesAddressesMoveWithStapsdtBase() throws {
        try USDTTestPrograms.with { programs in
            // Moving .stapsdt.base's address in the section headers is what prelink does to it.
            let original = programs.probes(.nonPIE)
            let moved = programs.directory + "/moved"
            defer { unlink(moved) }
            let run = ChildRun.run(["/usr/bin/objcopy", "--change-section-address", ".stapsdt.base+0x1000", original, moved])
            try #require(run.status == 0, "\(run.output)")
            let before = try USDTProbe.all(in: original)
            let after = try USDTProbe.all(in: moved)
            try #require(after.count == before.count)
            for (old, new) in zip(before, after) {
                #expect(new.location == old.location && new.base == old.base)
                #expect(new.address == old.address + 0x1000)
                #expect(new.semaphoreAddress == old.semaphoreAddress.map { $0 + 0x1000 })
            }
        }
    }

    @Test func aMissingOrNonELFFileThrows() throws {
        let missing = try #require(throws: TraceFSError.self) { try USDTProbe.all(in: "/nonexistent/python") }
        #expect(missing.code == .notFound)
        let text = try #require(throws: TraceFSError.self) { try USDTProbe.all(in: "/etc/passwd") }
        #expect(text.code == .invalidArgument)
    }
}
