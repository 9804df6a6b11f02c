import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// ProbeOwnershipTests' guarantees for kprobes, in a kernel that has them (the guest).
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && KernelFeatures.kprobes, "needs root and kprobe events"))
    struct KprobeOwnershipTests {
        @Test func createRefusesToJoinAnotherToolsKprobeEvent() throws {
            let group = TemporaryGroup.name("kjoin")
            #expect(OtherTool.write("p:\(group)/ev vfs_read a=$arg1") == 0)
            defer { OtherTool.remove("\(group)/ev") }
            let before = DynamicEventsFile.lines()

            let mine = try DynamicEvent.kprobe(system: group, event: "ev", address: "vfs_write", format: "a=$arg2")
            let error = try #require(throws: TraceFSError.self) { try mine.create() }
            #expect(error.code == .alreadyExists, "\(error)")
            #expect(error.function == nil, "the definition was written: \(error)")
            #expect(DynamicEventsFile.lines() == before)
            try mine.destroy(force: true)
            #expect(DynamicEventsFile.lines() == before)
        }

        @Test func destroyRemovesOnlyItsOwnKprobeWhenAnotherToolJoinedTheEvent() throws {
            try TemporaryGroup.with("kshare") { group in
                let mine = try DynamicEvent.kprobe(system: group, event: "ev", address: "vfs_read", format: "a=$arg1")
                try mine.create()
                #expect(OtherTool.write("p:\(group)/ev vfs_write a=$arg2") == 0)
                defer { OtherTool.remove("\(group)/ev") }
                #expect(DynamicEventsFile.lines(ofGroup: group).count == 2)

                try mine.destroy(force: true)

                #expect(DynamicEventsFile.lines(ofGroup: group) == ["p:\(group)/ev vfs_write a=$arg2"])
            }
        }

        @Test func destroyKprobeDisablesOnlyTheExactlyNamedEvent() throws {
            let lower = TemporaryGroup.name("kcase")
            let upper = lower.uppercased()
            let instanceName = TemporaryInstance.name("kcase")
            try Instance.withTemporary(named: instanceName) { instance in
                #expect(OtherTool.write("p:\(upper)/k1 vfs_read") == 0)
                defer { OtherTool.remove("\(upper)/k1", disablingIn: [instanceName]) }
                defer { try? DynamicEvent.destroyAll(system: lower, force: true) }
                try DynamicEvent.createKprobe(system: lower, event: "k1", address: "vfs_read")
                try instance.enableEvent(system: lower, event: "k1")
                OtherTool.setEnabled("\(upper)/k1", true, instance: instanceName)

                #expect(try DynamicEvent.destroyKprobe(system: lower, event: "k1", force: true) == 1)

                #expect(try DynamicEvent.find(.kprobe, system: lower, event: "k1") == nil)
                #expect(OtherTool.enableState("\(upper)/k1", instance: instanceName) == "1", "the other tool's event was disabled")
                #expect(DynamicEventsFile.lines(ofGroup: upper).count == 1)
            }
        }

        @Test(.enabled(if: KernelFeatures.uprobes, "needs uprobes too"))
        func findWithoutAGroupFindsTheKprobeWhenAUprobeOfThatNameIsListedFirst() throws {
            try TemporaryGroup.with("fu") { uprobeGroup in
                try TemporaryGroup.with("fk") { kprobeGroup in
                    let event = "same_\(getpid())"
                    try DynamicEvent.uprobe(system: uprobeGroup, event: event, file: UprobeTarget.path, offset: 0x1000).create()
                    try DynamicEvent.kprobe(system: kprobeGroup, event: event, address: "vfs_read").create()

                    let found = try #require(try DynamicEvent.find(.kprobe, system: nil, event: event))
                    #expect(found.kind == .kprobe)
                    #expect(found.system == kprobeGroup)
                    #expect(try DynamicEvent.find(.uprobe, system: nil, event: event)?.system == uprobeGroup)
                }
            }
        }
    }
}
