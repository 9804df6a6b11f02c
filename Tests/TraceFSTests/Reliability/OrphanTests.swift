import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// A process that dies with SIGKILL cannot clean up; `TraceSession.removeOrphans()` removes what it
/// left, and nothing else: not another tool's events, not a live session, seen from any PID or
/// time namespace.
extension KernelSuite {
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && KernelFeatures.uprobes && SessionHolder.holdFile == nil,
                                 "needs root and uprobes; not in a holder"))
    struct OrphanTests {
        static let unshare = "/usr/bin/unshare"
        /// A new PID namespace (the holder is pid 1 there) with its own /proc.
        static let pidNamespace = [unshare, "--pid", "--fork", "--kill-child", "--mount-proc"]
        /// A new time namespace whose boot time is 1000 s earlier, which shifts start times.
        static let timeNamespace = [unshare, "--time", "--boottime", "1000", "--fork", "--kill-child"]

        @Test func removesWhatAKilledProcessLeftAndNothingElse() async throws {
            try await TemporaryGroup.with("bystander") { bystander in
                try DynamicEvent.uprobe(system: bystander, event: "keep", file: UprobeTarget.path, offset: 0x100).create()
                try await TraceSession.run { living in
                    try living.uprobe("alive", file: UprobeTarget.path, offset: 0x100)
                    let (holder, group) = try await SessionHolder.start(.probes)
                    #expect(DynamicEventsFile.lines(ofGroup: group).count == 3)
                    #expect(try Instance.names().contains(group))

                    #expect(SessionHolder.end(holder, with: SIGKILL) == SIGKILL)
                    #expect(DynamicEventsFile.lines(ofGroup: group).count == 3, "the probes are orphans now")

                    let report = try TraceSession.removeOrphans()
                    #expect(report.groups.contains(group))
                    #expect(report.instances.contains(group))
                    #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
                    #expect(try !Instance.names().contains(group))
                    // The living session and the other tool's event are untouched.
                    #expect(DynamicEventsFile.lines(ofGroup: living.group).count == 1)
                    #expect(try Instance.names().contains(living.group))
                    #expect(DynamicEventsFile.lines(ofGroup: bystander).count == 1)
                    #expect(!report.groups.contains(living.group))
                }
            }
        }

        /// A session in another PID or time namespace has another pid or start time there than
        /// the host sees; the lock on its instance still says it is alive, and once it is killed
        /// the host's reaper removes it.
        @Test(arguments: ["pid", "time"])
        func aSessionInAnotherNamespaceIsAliveUntilKilled(namespace: String) async throws {
            let wrapper = namespace == "pid" ? Self.pidNamespace : Self.timeNamespace
            let (holder, group) = try await SessionHolder.start(.probes, under: wrapper)
            if namespace == "pid" {
                #expect(group.hasPrefix("swtf_1_"), "the holder is pid 1 in its namespace: \(group)")
            }
            let whileAlive = try TraceSession.removeOrphans()
            #expect(!whileAlive.groups.contains(group), "the host's reaper removed a live session")
            #expect(DynamicEventsFile.lines(ofGroup: group).count == 3)
            #expect(try Instance.names().contains(group))

            // SIGKILL to unshare: --kill-child passes it on to the holder.
            #expect(SessionHolder.end(holder, with: SIGKILL) == SIGKILL)
            let afterDeath = try await Self.removeOrphansOnceTheLockIsGone(group)
            #expect(afterDeath.groups.contains(group))
            #expect(afterDeath.instances.contains(group))
            #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
        }

        /// A reaper inside another PID or time namespace sees this process under another pid or
        /// start time; it must leave this live session alone, and still remove a dead one.
        @Test(arguments: ["pid", "time"])
        func aReaperInAnotherNamespaceLeavesLiveSessionsAlone(namespace: String) async throws {
            let wrapper = namespace == "pid" ? Self.pidNamespace : Self.timeNamespace
            try await TraceSession.run { living in
                try living.uprobe("alive", file: UprobeTarget.path, offset: 0x100)
                let (dead, deadGroup) = try await SessionHolder.start(.probes)
                #expect(SessionHolder.end(dead, with: SIGKILL) == SIGKILL)

                let (reaper, said) = try await SessionHolder.start(.reap, under: wrapper)
                _ = ChildRun.wait(reaper)
                #expect(said.contains(deadGroup), "the reaper in the namespace removed the dead session: \(said)")
                #expect(!said.contains(living.group))
                #expect(DynamicEventsFile.lines(ofGroup: living.group).count == 1, "a live session was removed")
                #expect(try Instance.names().contains(living.group))
                #expect(DynamicEventsFile.lines(ofGroup: deadGroup).isEmpty)
            }
        }

        /// A command ending in a prepended mark (U+0600) merges with ")" as a Swift Character;
        /// the start time is still read, so the session's name carries it.
        @Test func aCommandEndingInAPrependMarkStillGivesTheStartTime() async throws {
            let (holder, group) = try await SessionHolder.start(.prependMarkCommand)
            defer { _ = SessionHolder.end(holder, with: SIGTERM) }
            let parts = group.split(separator: "_")
            #expect(parts.count == 4)
            let stat = Array(readKernelFile("/proc/\(holder)/stat").utf8)
            let close = try #require(stat.lastIndex(of: UInt8(ascii: ")")))
            let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
            let startTime = String(decoding: fields[19], as: UTF8.self)
            #expect(String(parts[2]) == startTime, "\(group): the start time is \(startTime)")
            #expect(startTime != "0")
            #expect(!(try TraceSession.removeOrphans()).groups.contains(group))
        }

        /// A child made by fork() gets names of its own: neither it nor its parent is refused.
        @Test func aForkedChildGetsNamesOfItsOwn() async throws {
            let (holder, said) = try await SessionHolder.start(.fork)
            _ = ChildRun.wait(holder)
            let words = said.split(separator: " ").map(String.init)
            try #require(words.count == 4 && words[0] == "ok", "\(said)")
            let prefix = { (name: String) in name.split(separator: "_").prefix(3).joined(separator: "_") }
            #expect(prefix(words[1]) != prefix(words[2]), "the child has its parent's prefix: \(said)")
            #expect(prefix(words[1]) == prefix(words[3]))
            #expect(Set(words[1...]).count == 3)
            for group in words[1...] { #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty) }
        }

        /// `waitpid` reports `unshare` dead; the holder it started gets SIGKILL from the kernel
        /// only then (`--kill-child`), and its lock goes when it is torn down a moment later.
        static func removeOrphansOnceTheLockIsGone(_ group: String) async throws -> TraceSession.OrphanReport {
            var report = try TraceSession.removeOrphans()
            for _ in 0..<100 where !report.groups.contains(group) {
                try await Task.sleep(for: .milliseconds(50))
                report = try TraceSession.removeOrphans()
            }
            return report
        }
    }
}
