import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// Uprobes placed by symbol fire for real: once per call of the function.
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && KernelFeatures.uprobes && SymbolTestPrograms.available,
                                 "needs root, uprobe events, cc and readelf"))
    struct SymbolProbeHitTests {
        @Test(arguments: SymbolTestPrograms.Build.allCases)
        func aProbeOnASymbolFiresOncePerCall(build: SymbolTestPrograms.Build) throws {
            let calls = 7
            try SymbolTestPrograms.with { programs in
                let file = programs.program(build)
                try TemporaryGroup.with("sym") { group in
                    let entry = try DynamicEvent.uprobe(system: group, file: file, symbol: "swtf_target")
                    let exit = try DynamicEvent.uretprobe(system: group, event: "swtf_target_ret", file: file,
                                                          symbol: "swtf_target")
                    try entry.create()
                    try exit.create()
                    try Instance.withTemporary(named: TemporaryInstance.name("sym")) { instance in
                        try instance.enableEvent(system: group, event: entry.event)
                        try instance.enableEvent(system: group, event: exit.event)
                        let run = ChildRun.run([file, "\(calls)"])
                        #expect(run.status == 0, "\(run.output)")
                        let catalog = try EventCatalog.local(systems: [group])
                        var hits: [String: Int] = [:]
                        try instance.readRecords(using: catalog) { record in
                            hits[record.format.name, default: 0] += 1
                            return .continue
                        }
                        #expect(hits == [entry.event: calls, exit.event: calls])
                        try instance.disableEvent(system: group, event: entry.event)
                        try instance.disableEvent(system: group, event: exit.event)
                    }
                    try entry.destroy()
                    try exit.destroy()
                    #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
                }
            }
        }
    }
}
