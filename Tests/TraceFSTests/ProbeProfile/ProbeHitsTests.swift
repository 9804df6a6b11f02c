import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// Hit counts read from the kernel's profile files while real probes fire.
    @Suite(.serialized)
    struct ProbeHitsTests {
        @Test(.enabled(if: KernelFeatures.isRoot && KernelFeatures.uprobes, "needs root and uprobe events"))
        func uprobeHitsEqualTheNumberOfRuns() throws {
            let offset = try #require(ELFEntryPoint.fileOffset(of: UprobeTarget.path))
            try TemporaryGroup.with("hits") { group in
                let probe = try DynamicEvent.uprobe(system: group, event: "start", file: UprobeTarget.path, offset: offset)
                try probe.create()
                try Instance.withTemporary(named: TemporaryInstance.name("hits")) { instance in
                    // A uprobe is inserted only while an instance has it enabled.
                    try instance.enableEvent(system: group, event: "start")
                    let before = try ProbeProfile.read()
                    #expect(try probe.hits()?.hits == 0)
                    for _ in 0..<3 { #expect(ChildRun.run([UprobeTarget.path]).status == 0) }
                    let after = try ProbeProfile.read()
                    let counted = try #require(try probe.hits())
                    #expect(counted.hits == 3)
                    #expect(counted.file == UprobeTarget.path)
                    let difference = after.difference(since: before)
                    #expect(difference.userProbes.first { $0.event == "start" && $0.file == UprobeTarget.path }?.hits == 3)
                    try instance.disableEvent(system: group, event: "start")
                }
                try probe.destroy()
                #expect(try probe.hits() == nil)
            }
        }

        @Test(.enabled(if: KernelFeatures.isRoot && KernelFeatures.kprobes, "needs root and kprobe events"))
        func kprobeHitsEqualTheNumberOfCalls() throws {
            try TemporaryGroup.with("hits") { group in
                // getppid: nothing else in the test process or the guest calls it while we count.
                let probe = try DynamicEvent.kprobe(system: group, event: "getppid", address: "__x64_sys_getppid")
                try probe.create()
                try Instance.withTemporary(named: TemporaryInstance.name("hits")) { instance in
                    try instance.enableEvent(system: group, event: "getppid")
                    let before = try #require(try probe.hits())
                    for _ in 0..<25 { _ = getppid() }
                    let after = try #require(try probe.hits())
                    #expect(after.hits - before.hits == 25)
                    #expect(after.misses == 0)
                    try instance.disableEvent(system: group, event: "getppid")
                }
                try probe.destroy()
            }
        }

        @Test(.enabled(if: KernelFeatures.isRoot && KernelFeatures.kprobes, "needs root and kprobe events"))
        func kretprobeWithMaxActiveOneMissesConcurrentCalls() throws {
            try TemporaryGroup.with("hits") { group in
                let probe = try DynamicEvent.kretprobe(system: group, event: "sleep_return", address: "hrtimer_nanosleep",
                                                       maxActive: 1)
                try probe.create()
                try Instance.withTemporary(named: TemporaryInstance.name("hits")) { instance in
                    try instance.enableEvent(system: group, event: "sleep_return")
                    // Four processes asleep together: one kretprobe instance, so the entries that come
                    // while another sleeper holds it find none (how many overlap depends on scheduling).
                    let sleepers = (0..<4).compactMap { _ in ChildRun.start(["/bin/sleep", "0.5"], environment: [:]) }
                    #expect(sleepers.count == 4)
                    for pid in sleepers { _ = ChildRun.wait(pid) }
                    let counted = try #require(try probe.hits())
                    #expect(counted.misses >= 1)
                    try instance.disableEvent(system: group, event: "sleep_return")
                }
                try probe.destroy()
            }
        }
    }
}
