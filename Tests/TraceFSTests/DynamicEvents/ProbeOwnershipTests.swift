import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// The kernel adds a probe to an existing event of the same name when the arguments are
    /// compatible, and libtracefs matches names case-insensitively: this package must neither join
    /// another tool's event nor remove, enable or disable anything but the event it names.
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && KernelFeatures.uprobes, "needs root and uprobe events"))
    struct ProbeOwnershipTests {
        static func theirDefinition(_ group: String, offset: String = "0x1000", args: String = "a=%ax") -> String {
            "p:\(group)/ev \(UprobeTarget.path):\(offset) \(args)"
        }

        @Test func createRefusesToJoinAnotherToolsEventBeforeWriting() throws {
            let group = TemporaryGroup.name("join")
            #expect(OtherTool.write(Self.theirDefinition(group)) == 0)
            defer { OtherTool.remove("\(group)/ev") }
            let before = DynamicEventsFile.lines()

            // Compatible arguments (same name and type), another offset: the kernel would append it.
            let mine = try DynamicEvent.uprobe(system: group, event: "ev", file: UprobeTarget.path, offset: 0x1100,
                                               fetchArgs: "a=%bx")
            let error = try #require(throws: TraceFSError.self) { try mine.create() }
            #expect(error.code == .alreadyExists, "\(error)")
            #expect(error.function == nil, "the definition was written: \(error)")
            #expect(DynamicEventsFile.lines() == before)

            // Destroying the descriptor whose create failed leaves the other tool's event alone.
            try mine.destroy(force: true)
            #expect(DynamicEventsFile.lines(ofGroup: group).count == 1)
        }

        @Test func destroyRemovesOnlyItsOwnProbeWhenAnotherToolJoinedTheEvent() throws {
            for force in [false, true] {
                try TemporaryGroup.with("share") { group in
                    let mine = try DynamicEvent.uprobe(system: group, event: "ev", file: UprobeTarget.path, offset: 0x1000,
                                                       fetchArgs: "a=%ax")
                    try mine.create()
                    // The other tool appends a probe to our event, as the kernel allows.
                    let theirs = Self.theirDefinition(group, offset: "0x0000000000001100", args: "a=%bx")
                    #expect(OtherTool.write(theirs) == 0)
                    defer { OtherTool.remove("\(group)/ev") }
                    #expect(DynamicEventsFile.lines(ofGroup: group).count == 2)

                    try mine.destroy(force: force)

                    #expect(DynamicEventsFile.lines(ofGroup: group) == [theirs], "force: \(force)")
                    #expect(mine.exists, "the event itself is still there, with the other tool's probe")
                }
            }
        }

        @Test func destroyLeavesAnEventOfTheSameNameWithAnotherDefinitionAlone() throws {
            let group = TemporaryGroup.name("same")
            let mine = try DynamicEvent.uprobe(system: group, event: "ev", file: UprobeTarget.path, offset: 0x1000)
            try mine.create()
            try mine.destroy()
            // Another tool takes the name after ours went away.
            #expect(OtherTool.write(Self.theirDefinition(group, offset: "0x1200")) == 0)
            defer { OtherTool.remove("\(group)/ev") }

            try mine.destroy(force: true)
            try DynamicEvent.destroy([mine], force: true)

            #expect(DynamicEventsFile.lines(ofGroup: group).count == 1)
        }

        @Test func destroyTellsItsOwnProbeFromAnotherMadeUnderTheSameNameMeanwhile() throws {
            let group = TemporaryGroup.name("again")
            defer { OtherTool.remove("\(group)/ev") }
            // An unnamed argument: the kernel lists it as "arg1=%ax", not as given.
            let mine = try DynamicEvent.uprobe(system: group, event: "ev", file: UprobeTarget.path, offset: 0x1000, fetchArgs: "%ax")
            try mine.create()
            #expect(DynamicEventsFile.lines(ofGroup: group).first?.hasSuffix(" arg1=%ax") == true)
            try mine.destroy()
            #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty, "its own probe, listed differently, was not removed")

            try mine.create()
            // Another tool removes it and defines the name again elsewhere (the kernel may even give
            // the new event the old one's id).
            OtherTool.remove("\(group)/ev")
            #expect(OtherTool.write("p:\(group)/ev \(UprobeTarget.path):0x1100 %ax") == 0)
            try mine.destroy(force: true)
            #expect(DynamicEventsFile.lines(ofGroup: group).count == 1)
        }

        @Test func switchesActOnlyOnTheExactlyNamedEvent() throws {
            let upper = "SWTEST_CASE_\(getpid())"
            let lower = upper.lowercased()
            let instanceName = TemporaryInstance.name("case")
            try Instance.withTemporary(named: instanceName) { instance in
                #expect(OtherTool.write("p:\(upper)/ev \(UprobeTarget.path):0x1000") == 0)
                defer { OtherTool.remove("\(upper)/ev", disablingIn: [instanceName]) }
                try TemporaryGroup.with { _ in
                    let mine = try DynamicEvent.uprobe(system: lower, event: "ev", file: UprobeTarget.path, offset: 0x1000)
                    try mine.create()
                    defer { try? mine.destroy(force: true) }

                    OtherTool.setEnabled("\(upper)/ev", true, instance: instanceName)
                    try instance.disableEvent(system: lower, event: "ev")
                    #expect(OtherTool.enableState("\(upper)/ev", instance: instanceName) == "1", "disable hit the other event")

                    OtherTool.setEnabled("\(upper)/ev", false, instance: instanceName)
                    try instance.enableEvent(system: lower, event: "ev")
                    #expect(OtherTool.enableState("\(upper)/ev", instance: instanceName) == "0", "enable hit the other event")
                    #expect(OtherTool.enableState("\(lower)/ev", instance: instanceName) == "1")
                    #expect(try instance.isEventEnabled(system: lower, event: "ev"))
                    #expect(try !instance.isEventEnabled(system: upper, event: "ev"))

                    // With the group only, too.
                    try instance.disableEvent(system: lower, event: nil)
                    OtherTool.setEnabled("\(upper)/ev", true, instance: instanceName)
                    try instance.disableEvent(system: lower, event: nil)
                    #expect(OtherTool.enableState("\(upper)/ev", instance: instanceName) == "1")

                    // A forced destroy disables only its own event before removing it.
                    try instance.enableEvent(system: lower, event: "ev")
                    try mine.destroy(force: true)
                    #expect(!mine.exists)
                    #expect(OtherTool.enableState("\(upper)/ev", instance: instanceName) == "1", "destroy disabled the other event")
                    #expect(DynamicEventsFile.lines(ofGroup: upper).count == 1)
                }
            }
            // The lower-case group was not a TemporaryGroup name: check it is gone.
            #expect(DynamicEventsFile.lines(ofGroup: lower).isEmpty)
        }

        @Test func findAndListingCompareNamesExactly() throws {
            let upper = "SWTEST_FIND_\(getpid())"
            #expect(OtherTool.write("p:\(upper)/ev \(UprobeTarget.path):0x1000") == 0)
            defer { OtherTool.remove("\(upper)/ev") }
            #expect(try DynamicEvent.find(.uprobe, system: upper.lowercased(), event: "ev") == nil)
            #expect(try DynamicEvent.find(.uprobe, system: upper, event: "EV") == nil)
            #expect(try DynamicEvent.all(system: upper.lowercased()).isEmpty)
            #expect(try DynamicEvent.find(.uprobe, system: upper, event: "ev")?.system == upper)
        }

        @Test func namesOf63CharactersReachTheKernelAnd64AreRefusedBeforeWriting() throws {
            let longEvent = "e" + String(repeating: "x", count: 62)
            try TemporaryGroup.with { group in
                let probe = try DynamicEvent.uprobe(system: group, event: longEvent, file: UprobeTarget.path, offset: 0x1000)
                try probe.create()
                #expect(DynamicEventsFile.lines(ofGroup: group).first?.contains("/\(longEvent) ") == true)
                try probe.destroy()
            }
            let longGroup = "swtest_" + String(repeating: "g", count: 56)
            #expect(longGroup.count == 63)
            let probe = try DynamicEvent.uprobe(system: longGroup, event: "e", file: UprobeTarget.path, offset: 0x1000)
            try probe.create()
            #expect(DynamicEventsFile.lines(ofGroup: longGroup).count == 1)
            try probe.destroy()
            #expect(DynamicEventsFile.lines(ofGroup: longGroup).isEmpty)

            let before = DynamicEventsFile.lines()
            for (group, event) in [(longGroup + "g", "e"), ("swtest_long", longEvent + "x")] {
                let error = try #require(throws: TraceFSError.self) {
                    try DynamicEvent.uprobe(system: group, event: event, file: UprobeTarget.path, offset: 0x1000).create()
                }
                #expect(error.code == .invalidArgument)
                #expect(error.function == nil, "the kernel was asked: \(error)")
                #expect(error.reason.contains("63"))
            }
            #expect(DynamicEventsFile.lines() == before)
            // A sanitized symbol fits as well.
            #expect(EventName.sanitized(String(repeating: "s", count: 100)).count == 63)
        }

        @Test func hashInAFilePathIsRefusedBeforeWriting() throws {
            // A real file whose name would be read as "x:0x10" followed by a comment.
            let directory = "/tmp/swtest_hash_\(getpid())"
            mkdir(directory, 0o700)
            let file = directory + "/x:0x10#"
            let descriptor = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            #expect(descriptor >= 0)
            let bytes = [UInt8](repeating: 0x90, count: 0x2000)
            _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
            defer { unlink(file); rmdir(directory) }
            let group = TemporaryGroup.name("hash")
            defer { try? DynamicEvent.destroyAll(system: group, force: true) }

            let before = DynamicEventsFile.lines()
            let error = try #require(throws: TraceFSError.self) {
                try DynamicEvent.uprobe(system: group, event: "e1", file: file, offset: 0x1000, fetchArgs: "a=%ax").create()
            }
            #expect(error.code == .invalidArgument)
            #expect(error.reason.contains("'#'"))
            #expect(DynamicEventsFile.lines() == before)
        }

        @Test func relativePathsAreMadeAbsoluteAndProcLinksRefused() throws {
            var buffer = [CChar](repeating: 0, count: 4096)
            let cwd = String(cString: try #require(getcwd(&buffer, buffer.count)))
            let depth = cwd.split(separator: "/").count
            let relative = String(repeating: "../", count: depth) + UprobeTarget.path.dropFirst()
            try TemporaryGroup.with("rel") { group in
                let probe = try DynamicEvent.uprobe(system: group, event: "rel", file: relative, offset: 0x1000)
                #expect(probe.address?.hasPrefix("\(cwd)/\(relative):0x") == true, "\(probe.address ?? "nil")")
                try probe.create()
                let line = try #require(DynamicEventsFile.lines(ofGroup: group).first)
                #expect(line.contains(" /"), "the kernel lists a relative path: \(line)")
            }
            let descriptor = open(UprobeTarget.path, O_RDONLY)
            defer { close(descriptor) }
            let group = TemporaryGroup.name("proc")
            defer { try? DynamicEvent.destroyAll(system: group, force: true) }
            let before = DynamicEventsFile.lines()
            let error = try #require(throws: TraceFSError.self) {
                try DynamicEvent.uprobe(system: group, event: "e", file: "/proc/self/fd/\(descriptor)", offset: 0x1000).create()
            }
            #expect(error.code == .invalidArgument)
            #expect(error.reason.contains("/proc"))
            #expect(DynamicEventsFile.lines() == before)
        }
    }
}
