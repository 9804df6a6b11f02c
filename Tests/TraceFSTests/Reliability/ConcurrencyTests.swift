import Testing
import TraceFS

/// Many tasks changing dynamic events at once: nothing lost, nothing stray, no crash (and clean
/// under ThreadSanitizer: `make check`).
extension KernelSuite {
    @Suite(.enabled(if: KernelFeatures.isRoot && KernelFeatures.uprobes, "needs root and uprobes"))
    struct ConcurrencyTests {
        @Test func eightTasksEachCreateListAndDestroyAHundredUprobes() async throws {
            let group = TemporaryGroup.name("conc")
            defer { try? DynamicEvent.destroyAll(system: group, force: true) }
            let before = DynamicEventsFile.lines()

            try await withThrowingTaskGroup(of: Int.self) { tasks in
                for worker in 0..<8 {
                    tasks.addTask {
                        var probes: [DynamicEvent] = []
                        for index in 0..<100 {
                            let probe = try DynamicEvent.uprobe(system: group, event: "w\(worker)_\(index)",
                                                                file: UprobeTarget.path, offset: 0x100 + UInt64(index))
                            try probe.create()
                            probes.append(probe)
                        }
                        let mine = try DynamicEvent.all(.uprobe, system: group).filter { $0.event.hasPrefix("w\(worker)_") }
                        #expect(mine.count == 100)
                        for probe in probes { try probe.destroy() }
                        return mine.count
                    }
                }
                var total = 0
                for try await count in tasks { total += count }
                #expect(total == 800)
            }
            #expect(try DynamicEvent.all(system: group).isEmpty)
            #expect(DynamicEventsFile.lines() == before)
        }

        @Test func sharedDescriptorsAcrossTasks() async throws {
            try await TemporaryGroup.with("shared") { group in
                let probe = try DynamicEvent.uprobe(system: group, event: "shared", file: UprobeTarget.path, offset: 0x100)
                // One Sendable descriptor used from many tasks: one create wins, the rest say alreadyExists.
                let outcomes = await withTaskGroup(of: TraceFSError.Code?.self) { tasks in
                    for _ in 0..<8 {
                        tasks.addTask {
                            do { try probe.create(); return nil } catch let error as TraceFSError { return error.code } catch { return .failed }
                        }
                    }
                    var outcomes: [TraceFSError.Code?] = []
                    for await outcome in tasks { outcomes.append(outcome) }
                    return outcomes
                }
                #expect(outcomes.filter { $0 == nil }.count == 1)
                #expect(outcomes.compactMap { $0 }.allSatisfy { $0 == .alreadyExists })
                try probe.destroy()
            }
        }
    }
}
