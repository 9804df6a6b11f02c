import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// Kprobes and kretprobes against a kernel that has kprobe events (the guest run requires them).
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && KernelFeatures.kprobes, "needs root and kprobe events"))
    struct KprobeLifecycleTests {
        static let symbol = "do_sys_openat2"

        @Test func kprobeAllocatesCreatesListsAndDestroys() throws {
            try TemporaryGroup.with("kp") { group in
                let probe = try DynamicEvent.kprobe(system: group, event: "open", address: Self.symbol,
                                                    format: "file=+0($arg2):ustring")
                #expect(probe.kind == .kprobe)
                #expect(probe.system == group)
                #expect(probe.event == "open")
                #expect(probe.prefix == "p")
                #expect(probe.address == Self.symbol)
                #expect(probe.format == "file=+0($arg2):ustring")

                try probe.create()
                let line = try #require(kprobeEventsLines().first { $0.contains(":\(group)/open ") })
                #expect(line.hasPrefix("p:\(group)/open \(Self.symbol)"))
                #expect(try DynamicEvent.all(.kprobe, system: group).map(\.event) == ["open"])
                #expect(try DynamicEvent.find(.kprobe, system: group, event: "open") != nil)

                try probe.destroy()
                #expect(try DynamicEvent.find(.kprobe, system: group, event: "open") == nil)
                #expect(!kprobeEventsLines().contains { $0.contains(":\(group)/") })
            }
        }

        @Test func kretprobeMaxActiveReachesTheKernel() throws {
            try TemporaryGroup.with("kr") { group in
                let probe = try DynamicEvent.kretprobe(system: group, event: "openret", address: Self.symbol,
                                                       format: "ret=$retval", maxActive: 7)
                #expect(probe.kind == .kretprobe)
                try probe.create()
                let line = try #require(kprobeEventsLines().first { $0.contains(":\(group)/openret ") })
                #expect(line.hasPrefix("r7:\(group)/openret \(Self.symbol)"), "kprobe_events says: \(line)")
                let listed = try #require(try DynamicEvent.find(.kretprobe, system: group, event: "openret"))
                #expect(listed.kind == .kretprobe)
                try probe.destroy()
                #expect(!probe.exists)
            }
        }

        @Test func oneShotCreateAndDestroy() throws {
            try TemporaryGroup.with("raw") { group in
                try DynamicEvent.createKprobe(system: group, event: "rawopen", address: Self.symbol, format: "flags=$arg3:x32")
                try DynamicEvent.createKretprobe(system: group, event: "rawret", address: Self.symbol, format: "ret=$retval")
                #expect(try DynamicEvent.all([.kprobe, .kretprobe], system: group).map(\.event).sorted() == ["rawopen", "rawret"])
                #expect(try DynamicEvent.find(.kretprobe, system: group, event: "rawret")?.kind == .kretprobe)

                #expect(try DynamicEvent.destroyKprobe(system: group, event: "rawopen") == 1)
                #expect(try DynamicEvent.find(.kprobe, system: group, event: "rawopen") == nil)
                #expect(try DynamicEvent.find(.kretprobe, system: group, event: "rawret") != nil)
                #expect(try DynamicEvent.destroyKprobe(system: group) == 1)
                #expect(try DynamicEvent.destroyKprobe(system: group) == 0)
                #expect(try DynamicEvent.all(system: group).isEmpty)
            }
        }

        /// An unknown symbol is refused before anything is written (KernelSymbolCheckTests); the
        /// kernel's own messages still reach the error, and each failure carries its own.
        @Test func anUnknownSymbolIsRefusedBeforeTheKernelAndKernelMessagesStayTheirOwn() throws {
            try TemporaryGroup.with("unk") { group in
                let before = DynamicEventsFile.lines()
                let unknown = try #require(throws: TraceFSError.self) {
                    try DynamicEvent.kprobe(system: group, event: "nothing", address: "no_such_symbol_swift_tracefs")
                }
                #expect(unknown.code == .notFound)
                #expect(unknown.kernelMessage == nil && unknown.function == nil)
                #expect(unknown.reason.contains("no function 'no_such_symbol_swift_tracefs'"), "\(unknown.reason)")
                #expect(DynamicEventsFile.lines() == before)

                // $retval on an entry probe: the kernel refuses it with its own message.
                let entry = try DynamicEvent.kprobe(system: group, event: "retonentry", address: Self.symbol, format: "r=$retval")
                let first = try #require(throws: TraceFSError.self) { try entry.create() }
                #expect(first.code == .invalidArgument)
                let firstMessage = try #require(first.kernelMessage)

                // A second, different failure right after carries its own message.
                let bad = try DynamicEvent.kprobe(system: group, event: "badarg", address: Self.symbol, format: "x=$nosuchvar")
                let second = try #require(throws: TraceFSError.self) { try bad.create() }
                #expect(second.code == .invalidArgument)
                #expect(second.kernelMessage != nil)
                #expect(second.kernelMessage != firstMessage, "both: \(firstMessage)")
                #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
            }
        }

        @Test func destroyingAnEnabledKprobeIsBusyWithoutForce() throws {
            try TemporaryGroup.with("busy") { group in
                let probe = try DynamicEvent.kprobe(system: group, event: "open", address: Self.symbol)
                try probe.create()
                try Instance.withTemporary(named: "\(group)_instance") { instance in
                    try instance.enableEvent(system: group, event: "open")
                    #expect(try instance.isEventEnabled(system: group, event: "open"))
                    let error = try #require(throws: TraceFSError.self) { try probe.destroy() }
                    #expect(error.code == .busy)
                    try probe.destroy(force: true)
                    #expect(!probe.exists)
                }
            }
        }

        @Test(.enabled(if: KernelFeatures.eprobes, "needs eprobes"))
        func eprobeLifecycle() throws {
            try TemporaryGroup.with("ep") { group in
                let probe = try DynamicEvent.eprobe(system: group, event: "switch", targetSystem: "sched",
                                                    targetEvent: "sched_switch", fetchArgs: "next=$next_pid")
                #expect(probe.kind == .eprobe)
                try probe.create()
                #expect(try DynamicEvent.find(.eprobe, system: group, event: "switch")?.address == "sched.sched_switch")
                try probe.destroy()
                #expect(try DynamicEvent.find(.eprobe, system: group, event: "switch") == nil)
            }
        }

        private func kprobeEventsLines() -> [String] {
            readKernelFile((KernelFeatures.capabilities?.tracingDirectory ?? "/sys/kernel/tracing") + "/kprobe_events")
                .split(separator: "\n").map(String.init)
        }
    }
}

extension KernelSuite {
    /// On a kernel without kprobe events (this machine's), every kprobe call says so and writes nothing.
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && KernelFeatures.kprobesMissing, "for kernels without kprobe events"))
    struct MissingKprobeTests {
        @Test func creatingAKprobeIsUnsupportedAndNamesTheFeature() throws {
            let before = DynamicEventsFile.lines()
            let probe = try DynamicEvent.kprobe(system: "swtest_nokprobe", event: "open", address: "do_sys_openat2")
            let error = try #require(throws: TraceFSError.self) { try probe.create() }
            #expect(error.code == .unsupported)
            #expect(error.reason.contains("kprobe events (CONFIG_KPROBE_EVENTS)"))
            #expect(error.function == "tracefs_dynevent_create")
            #expect(DynamicEventsFile.lines() == before)
            // Destroying what cannot exist is not an error.
            try probe.destroy()
        }

        @Test func theOneShotCallsAreUnsupportedToo() throws {
            let before = DynamicEventsFile.lines()
            let kprobe = try #require(throws: TraceFSError.self) {
                try DynamicEvent.createKprobe(system: "swtest_nokprobe", event: "raw", address: "do_sys_openat2")
            }
            #expect(kprobe.code == .unsupported)
            let kretprobe = try #require(throws: TraceFSError.self) {
                try DynamicEvent.createKretprobe(system: "swtest_nokprobe", event: "rawret", address: "do_sys_openat2")
            }
            #expect(kretprobe.code == .unsupported)
            #expect(try DynamicEvent.destroyKprobe(system: "swtest_nokprobe") == 0)
            #expect(DynamicEventsFile.lines() == before)
        }
    }
}
