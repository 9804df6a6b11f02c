import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Scoped probes: a session removes exactly its own probes and instance however its scope ends.
extension KernelSuite {
    @Suite(.enabled(if: KernelFeatures.isRoot && KernelFeatures.uprobes, "needs root and uprobes"))
    struct TraceSessionTests {
        struct Failure: Error {}

        /// Another tool's event, which no session may touch.
        static func withBystander(_ body: () async throws -> Void) async throws {
            try await TemporaryGroup.with("bystander") { group in
                try DynamicEvent.uprobe(system: group, event: "keep", file: UprobeTarget.path, offset: 0x100).create()
                try await body()
                #expect(DynamicEventsFile.lines(ofGroup: group).count == 1, "a session removed another tool's event")
            }
        }

        @Test func namesAreUniquePerProcessAndSession() throws {
            let first = try TraceSession()
            defer { try? first.end() }
            let second = try TraceSession()
            defer { try? second.end() }
            #expect(first.group != second.group)
            #expect(first.group.hasPrefix("swtf_\(getpid())_"))
            #expect(first.instance.name == first.group)
        }

        @Test func endsOnReturn() async throws {
            try await Self.withBystander {
                var group = ""
                try TraceSession.run { session in
                    group = session.group
                    try session.uprobe("a", file: UprobeTarget.path, offset: 0x100)
                    try session.uretprobe("b", file: UprobeTarget.path, offset: 0x100)
                    try session.enableAll()
                    #expect(DynamicEventsFile.lines(ofGroup: group).count == 2)
                    #expect(session.events.count == 2)
                }
                #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
                #expect(try !Instance.names().contains(group))
            }
        }

        @Test func endsOnThrow() async throws {
            try await Self.withBystander {
                var group = ""
                #expect(throws: Failure.self) {
                    try TraceSession.run { session in
                        group = session.group
                        try session.uprobe("a", file: UprobeTarget.path, offset: 0x100)
                        throw Failure()
                    }
                }
                #expect(!group.isEmpty)
                #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
                let instances = try Instance.names()
                #expect(!instances.contains(group))
            }
        }

        @Test func endsOnCancellation() async throws {
            try await Self.withBystander {
                let started = AsyncStream<String>.makeStream()
                let task = Task {
                    try await TraceSession.run { session in
                        try session.uprobe("a", file: UprobeTarget.path, offset: 0x100)
                        started.continuation.yield(session.group)
                        try await Task.sleep(for: .seconds(60))
                    }
                }
                var iterator = started.stream.makeAsyncIterator()
                let group = try #require(await iterator.next())
                #expect(DynamicEventsFile.lines(ofGroup: group).count == 1)
                task.cancel()
                await #expect(throws: CancellationError.self) { try await task.value }
                #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
                #expect(try !Instance.names().contains(group))
            }
        }

        /// `run`'s result may be ignored, also when the body's last call returns a probe
        /// (which once warned, and in a `Void` context did not compile); a probe by symbol.
        @Test func aSessionsResultMayBeIgnored() throws {
            let libc = try #require(SystemLibC.path)
            var group = ""
            try TraceSession.run { session in
                group = session.group
                try session.uprobe(file: libc, symbol: "malloc")
            }
            try TraceSession.run { session in try session.uretprobe("ret", file: libc, symbol: "free") }
            #expect(!group.isEmpty)
            #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
        }

        /// The typed-argument and USDT wrappers create in the session's group and end with it.
        @Test func typedAndUSDTProbesBelongToTheSession() throws {
            let libc = try #require(SystemLibC.path)
            var group = ""
            try TraceSession.run { session in
                group = session.group
                try session.uprobe(file: libc, symbol: "malloc",
                                   arguments: [FetchArgument("size", .register("di"), as: .unsigned(64))])
                try session.uretprobe("malloc_ret", file: libc, symbol: "malloc",
                                      arguments: [FetchArgument("pointer", .returnValue, as: .hex(64))])
                try session.usdt(file: "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", provider: "libstdcxx", name: "throw")
                let lines = DynamicEventsFile.lines(ofGroup: group)
                #expect(lines.count == 3)
                #expect(lines.contains { $0.hasSuffix(" size=%di:u64") })
                #expect(lines.contains { $0.contains("/throw ") })
            }
            #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
        }

        @Test func aFailedProbeLeavesTheOthersToBeCleanedUp() throws {
            var group = ""
            #expect(throws: TraceFSError.self) {
                try TraceSession.run { session in
                    group = session.group
                    try session.uprobe("fine", file: UprobeTarget.path, offset: 0x100)
                    try session.uprobe("bad", file: UprobeTarget.path, offset: 0x200, fetchArgs: "x=%nosuchreg")
                }
            }
            #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
        }

        /// An `end()` that fails (a reader holds the instance's files open) leaves what it could
        /// not remove, and a later `end()` removes it.
        @Test func aFailedEndCanBeRetried() throws {
            let session = try TraceSession()
            defer { try? session.end() }
            try session.uprobe("a", file: UprobeTarget.path, offset: 0x100)
            try session.enableAll()
            try session.instance.writeMarker("hold the reader")
            let catalog = try EventCatalog.local(systems: ["ftrace"])
            let reading = Gate()
            let release = Gate()
            let reader = TestThread.start {
                try? session.instance.readRecords(using: catalog) { _ in
                    reading.open()
                    release.wait()
                    return .stop
                }
            }
            reading.wait()
            let error = #expect(throws: TraceFSError.self) { try session.end() }
            #expect(error?.code == .busy)
            #expect(try Instance.names().contains(session.group), "the instance is still there to retry on")
            release.open()
            reader.join()

            try session.end()
            #expect(try !Instance.names().contains(session.group))
            #expect(DynamicEventsFile.lines(ofGroup: session.group).isEmpty)
            #expect(throws: TraceFSError.self) { try session.uprobe("b", file: UprobeTarget.path, offset: 0x100) }
        }
    }
}
