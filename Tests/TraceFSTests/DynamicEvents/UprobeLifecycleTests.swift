import CTraceFS
import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// The whole dynamic-event lifecycle on uprobes and uretprobes, against this kernel's tracefs.
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && KernelFeatures.uprobes, "needs root and uprobe events"))
    struct UprobeLifecycleTests {
        @Test(arguments: [DynamicEvent.Kind.uprobe, .uretprobe])
        func allocatesCreatesListsAndDestroys(kind: DynamicEvent.Kind) throws {
            try TemporaryGroup.with { group in
                let factory = kind == .uprobe
                    ? DynamicEvent.uprobe(system:event:file:offset:fetchArgs:)
                    : DynamicEvent.uretprobe(system:event:file:offset:fetchArgs:)
                let probe = try factory(group, "entry", UprobeTarget.path, UprobeTarget.offset, "arg=%ax:u64")

                #expect(probe.kind == kind)
                #expect(probe.system == group)
                #expect(probe.event == "entry")
                #expect(probe.prefix == (kind == .uprobe ? "p" : "r"))
                #expect(probe.address == "\(UprobeTarget.path):0x\(hex16(UprobeTarget.offset))")
                #expect(probe.format == "arg=%ax:u64")
                #expect(!probe.exists)
                #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)

                try probe.create()
                #expect(probe.exists)
                let lines = DynamicEventsFile.lines(ofGroup: group)
                #expect(lines.count == 1)
                #expect(lines.first?.hasPrefix("\(probe.prefix):\(group)/entry \(UprobeTarget.path):0x") == true)

                let listed = try DynamicEvent.all(Kinds(kind), system: group)
                #expect(listed.map(\.event) == ["entry"])
                #expect(listed.first?.kind == kind)
                #expect(listed.first?.address == probe.address)
                let found = try #require(try DynamicEvent.find(kind, system: group, event: "entry"))
                #expect(found.format == "arg=%ax:u64")

                try probe.destroy()
                #expect(!probe.exists)
                #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
                #expect(try DynamicEvent.find(kind, system: group, event: "entry") == nil)
                // Destroying what is already gone is safe.
                try probe.destroy()
            }
        }

        @Test func listingDoesNotRepeatEvents() throws {
            try TemporaryGroup.with { group in
                for name in ["a", "b", "c"] {
                    try DynamicEvent.uprobe(system: group, event: name, file: UprobeTarget.path, offset: UprobeTarget.offset).create()
                }
                let events = try DynamicEvent.all(system: group)
                #expect(events.map(\.event).sorted() == ["a", "b", "c"])
                #expect(try DynamicEvent.all(.kprobe, system: group).isEmpty)
            }
        }

        @Test func destroyAllWithAGroupLeavesOtherGroupsAlone() throws {
            try TemporaryGroup.with("mine") { mine in
                try TemporaryGroup.with("other") { other in
                    try DynamicEvent.uprobe(system: mine, event: "one", file: UprobeTarget.path, offset: 0x100).create()
                    try DynamicEvent.uretprobe(system: mine, event: "two", file: UprobeTarget.path, offset: 0x100).create()
                    try DynamicEvent.uprobe(system: other, event: "keep", file: UprobeTarget.path, offset: 0x100).create()
                    let before = DynamicEventsFile.lines().filter { !$0.contains(":\(mine)/") }

                    try DynamicEvent.destroyAll(system: mine)

                    #expect(DynamicEventsFile.lines(ofGroup: mine).isEmpty)
                    #expect(DynamicEventsFile.lines(ofGroup: other).count == 1)
                    #expect(DynamicEventsFile.lines() == before)
                }
            }
        }

        @Test func creatingTheSameEventTwiceSaysAlreadyExistsBeforeWriting() throws {
            try TemporaryGroup.with { group in
                let probe = try DynamicEvent.uprobe(system: group, event: "twice", file: UprobeTarget.path, offset: 0x200)
                try probe.create()
                let before = DynamicEventsFile.lines()
                let error = try #require(throws: TraceFSError.self) { try probe.create() }
                #expect(error.code == .alreadyExists)
                #expect(error.function == nil)
                #expect(error.description.contains("\(group)/twice"))
                #expect(DynamicEventsFile.lines() == before)
            }
        }

        @Test func destroyingAnEnabledEventNeedsForce() throws {
            try TemporaryGroup.with { group in
                let probe = try DynamicEvent.uprobe(system: group, event: "enabled", file: UprobeTarget.path, offset: 0x300)
                try probe.create()
                let instance = try Instance.top
                try instance.enableEvent(system: group, event: "enabled")

                let error = try #require(throws: TraceFSError.self) { try probe.destroy() }
                #expect(error.code == .busy)
                #expect(error.reason.contains("force: true"))
                #expect(probe.exists)

                try probe.destroy(force: true)
                #expect(!probe.exists)
            }
        }

        @Test func aMissingFileIsNotFoundBeforeAnythingIsWritten() throws {
            let before = DynamicEventsFile.lines()
            let error = try #require(throws: TraceFSError.self) {
                try DynamicEvent.uprobe(system: "swtest_missing", event: "x", file: "/nonexistent/binary", offset: 0)
            }
            #expect(error.code == .notFound)
            #expect(error.description.contains("/nonexistent/binary"))
            #expect(DynamicEventsFile.lines() == before)
        }

        @Test func anOffsetPastTheEndOfTheFileIsInvalid() throws {
            let before = DynamicEventsFile.lines()
            let error = try #require(throws: TraceFSError.self) {
                try DynamicEvent.uprobe(system: "swtest_offset", event: "x", file: UprobeTarget.path, offset: UprobeTarget.size)
            }
            #expect(error.code == .invalidArgument)
            #expect(error.reason.contains("past the end"))
            #expect(DynamicEventsFile.lines() == before)
        }

        @Test func aKernelRejectionCarriesItsOwnLogEntryNotAnEarlierOne() throws {
            try TemporaryGroup.with { group in
                // First failure: an unknown type, which the kernel logs.
                let probe = try DynamicEvent.uprobe(system: group, event: "badtype", file: UprobeTarget.path, offset: 0x400,
                                                    fetchArgs: "a=%ax:nosuchtype")
                let first = try #require(throws: TraceFSError.self) { try probe.create() }
                #expect(first.kernelMessage != nil)
                // Second, different failure: an undefined fetch argument, which the kernel logs differently.
                let bad = try DynamicEvent.uprobe(system: group, event: "badarg", file: UprobeTarget.path, offset: 0x400,
                                                  fetchArgs: "x=%nosuchregister")
                let second = try #require(throws: TraceFSError.self) { try bad.create() }
                #expect(second.code == .invalidArgument)
                #expect(second.kernelMessage != first.kernelMessage)
                #expect(second.kernelMessage != nil)
            }
        }
    }
}

/// The offset as libtracefs formats it: 16 hex digits.
func hex16(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
}

typealias Kinds = DynamicEvent.Kinds
