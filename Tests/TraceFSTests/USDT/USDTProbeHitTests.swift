import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// USDT probes fire for real, on this kernel: once per pass, with their arguments decoded,
    /// and a semaphore-guarded probe only because the kernel increments its semaphore.
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && KernelFeatures.uprobes && USDTTestPrograms.available,
                                 "needs root, uprobe events, cc, g++, sys/sdt.h, python3.11 and libstdc++"))
    struct USDTProbeHitTests {
        /// Enables `events` in a temporary instance, runs `body`, and returns the records read.
        static func records(
            of events: [DynamicEvent], _ body: () throws -> Void
        ) throws -> [(event: String, pid: Int32, fields: [String: String])] {
            try Instance.withTemporary(named: TemporaryInstance.name("usdt")) { instance in
                for event in events { try instance.enableEvent(system: event.system, event: event.event) }
                try body()
                let catalog = try EventCatalog.local(systems: Array(Set(events.map(\.system))))
                var records: [(String, Int32, [String: String])] = []
                try instance.readRecords(using: catalog) { record in
                    var fields: [String: String] = [:]
                    for name in record.format.fields.map(\.name) where !name.hasPrefix("common_") {
                        fields[name] = record.string(name) ?? record.signed(name).map(String.init)
                    }
                    records.append((record.format.name, record.pid, fields))
                    return .continue
                }
                for event in events { try instance.disableEvent(system: event.system, event: event.event) }
                return records
            }
        }

        @Test func pythonsFunctionEntryGivesTheScriptAndFunctionOncePerCall() throws {
            let calls = 17
            try USDTTestPrograms.with { programs in
                try TemporaryGroup.with("usdt") { group in
                    let entry = try DynamicEvent.usdt(
                        system: group, file: USDTTestPrograms.python, provider: "python", name: "function__entry",
                        argumentNames: ["filename", "function", "line"], userStrings: ["filename", "function"])
                    #expect(entry.format == "filename=+0(%bp):ustring function=+0(%r12):ustring line=%ax:s32")
                    let probe = try #require(try USDTProbe.all(in: USDTTestPrograms.python).first { $0.name == "function__entry" })
                    let semaphore = try #require(probe.semaphoreAddress)
                    try entry.create()
                    var output = ""
                    let records = try Self.records(of: [entry]) {
                        let run = ChildRun.run([USDTTestPrograms.python, "-S", programs.script, "\(calls)",
                                                String(semaphore, radix: 16)])
                        #expect(run.status == 0, "\(run.output)")
                        output = run.output
                    }
                    // The kernel incremented the semaphore in the script's process.
                    #expect(Int(output.split(separator: "\n").last ?? "") ?? 0 >= 1, "semaphore: \(output)")
                    let ours = records.filter { $0.fields["function"] == "swtf_target" }
                    #expect(ours.count == calls, "\(records.prefix(5).map { "\($0.fields)" })")
                    #expect(ours.allSatisfy { $0.fields["filename"] == programs.script && $0.fields["line"] == "3" },
                            "\(ours.first.map { "\($0.fields)" } ?? "")")
                    try entry.destroy()
                    #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
                }
            }
        }

        @Test func withoutTheReferenceCounterPythonsGuardedProbeNeverFires() throws {
            let calls = 5
            try USDTTestPrograms.with { programs in
                try TemporaryGroup.with("usdt") { group in
                    let probe = try #require(try USDTProbe.all(in: USDTTestPrograms.python).first { $0.name == "function__entry" })
                    let semaphore = try #require(probe.semaphoreAddress)
                    // The same place and arguments, as a plain uprobe: nobody sets the semaphore.
                    let plain = try DynamicEvent.uprobe(
                        system: group, event: "plain", file: USDTTestPrograms.python, offset: try #require(probe.fileOffset),
                        fetchArgs: "function=\(try #require(probe.arguments[1].userStringFetchArgument))")
                    try plain.create()
                    var output = ""
                    let records = try Self.records(of: [plain]) {
                        let run = ChildRun.run([USDTTestPrograms.python, "-S", programs.script, "\(calls)",
                                                String(semaphore, radix: 16)])
                        #expect(run.status == 0, "\(run.output)")
                        output = run.output
                    }
                    #expect(output.split(separator: "\n").last == "0")
                    #expect(records.filter { $0.fields["function"] == "swtf_target" }.isEmpty)
                    try plain.destroy()
                }
            }
        }

        @Test func aCxxThrowGivesOneRecordPerThrow() throws {
            let throws_ = 9
            try USDTTestPrograms.with { programs in
                try TemporaryGroup.with("usdt") { group in
                    let thrown = try DynamicEvent.usdt(system: group, file: USDTTestPrograms.libstdcxx,
                                                       provider: "libstdcxx", name: "throw",
                                                       argumentNames: ["object", "type"])
                    #expect(thrown.event == "throw")
                    #expect(thrown.format == "object=%di:u64 type=%si:u64")
                    #expect(thrown.address?.hasSuffix(")") == false)
                    try thrown.create()
                    var child: pid_t = -1
                    let records = try Self.records(of: [thrown]) {
                        child = try #require(ChildRun.start([programs.thrower, "\(throws_)"], environment: [:]))
                        let status = ChildRun.wait(child)
                        #expect(status == 0)
                    }
                    // libstdc++ is everyone's: count the program's own throws.
                    #expect(records.filter { $0.pid == child }.count == throws_)
                    try thrown.destroy()
                    #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
                }
            }
        }

        @Test(arguments: SymbolTestPrograms.Build.allCases)
        func aBuiltProgramsArgumentsAreFetchedWithTheirTypes(build: SymbolTestPrograms.Build) throws {
            let passes = 6
            try USDTTestPrograms.with { programs in
                try TemporaryGroup.with("usdt") { group in
                    let file = programs.probes(build)
                    let values = try DynamicEvent.usdt(system: group, file: file, provider: "swtf", name: "values",
                                                       argumentNames: ["turn", "global", "constant", "small"])
                    let guarded = try DynamicEvent.usdt(system: group, file: file, provider: "swtf", name: "guarded")
                    #expect(guarded.system == group && guarded.format == "arg1=%ax:s32" || guarded.format?.hasPrefix("arg1=") == true)
                    try values.create()
                    try guarded.create()
                    let records = try Self.records(of: [values, guarded]) {
                        let run = ChildRun.run([file, "\(passes)"])
                        #expect(run.status == 0, "\(run.output)")
                    }
                    let valueRecords = records.filter { $0.event == "values" }
                    #expect(valueRecords.map { $0.fields["turn"] } == (0..<passes).map { "\($0)" })
                    #expect(valueRecords.allSatisfy { $0.fields["global"] == "42" && $0.fields["constant"] == "5" })
                    #expect(valueRecords.map { $0.fields["small"] } == (0..<passes).map { "\(-$0)" })
                    // Fires only because the kernel sets the semaphore.
                    #expect(records.filter { $0.event == "guarded" }.map { $0.fields["arg1"] } == (0..<passes).map { "\($0)" })
                    try values.destroy()
                    try guarded.destroy()
                    #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
                }
            }
        }

        /// The kernel lists a probe with a reference counter as `p:group/event /path:0x...(0x...) args`;
        /// listing, finding and destroying it work on that line.
        @Test func aProbeWithASemaphoreIsListedAndDestroyedByItsLine() throws {
            try USDTTestPrograms.with { programs in
                try TemporaryGroup.with("usdt") { group in
                    let file = programs.probes(.pie)
                    let probe = try #require(try USDTProbe.all(in: file).first { $0.name == "guarded" })
                    let semaphore = try #require(probe.semaphoreFileOffset)
                    let offset = try #require(probe.fileOffset)
                    let event = try DynamicEvent.usdt(system: group, event: "guarded", probe: probe, argumentNames: ["turn"])
                    let address = "\(file):0x\(String(repeating: "0", count: 16 - String(offset, radix: 16).count))"
                        + "\(String(offset, radix: 16))(0x\(String(semaphore, radix: 16)))"
                    #expect(event.address == address)
                    try event.create()
                    let expected = "p:\(group)/guarded \(address) turn=\(probe.arguments[0].fetchArgument!)"
                    #expect(DynamicEventsFile.lines(ofGroup: group) == [expected])
                    #expect(event.definition == expected)
                    let listed = try #require(try DynamicEvent.find(.uprobe, system: group, event: "guarded"))
                    #expect(listed.address == address)
                    #expect(try DynamicEvent.all(system: group).count == 1)
                    // A listed descriptor destroys it by its line; a second destroy is a no-op.
                    try listed.destroy()
                    #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
                    try event.destroy()
                    // The one that created it too.
                    try event.create()
                    #expect(DynamicEventsFile.lines(ofGroup: group) == [expected])
                    try event.destroy()
                    #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
                }
            }
        }
    }
}
