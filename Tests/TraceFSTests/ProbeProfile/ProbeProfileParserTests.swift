import Testing
import TraceFS

/// The profile parsers on text captured from real kernels (Tests/TraceFSTests/Fixtures).
struct ProbeProfileParserTests {
    @Test func parsesTheGuestsKprobeProfile() throws {
        let text = try Fixture.text("kprobe_profile-6.1.txt")
        let entries = ProbeProfile.parseKernelProfile(text)
        #expect(entries.count == text.split(separator: "\n").count)
        #expect(entries.allSatisfy { $0.file == nil })
        let missed = try #require(entries.first { $0.event == "sleep_return" })
        #expect(missed.misses > 0)
        let counted = try #require(entries.first { $0.event == "getppid" })
        #expect(counted.hits == 25)
        #expect(counted.misses == 0)
    }

    @Test func parsesTheHostsUprobeProfile() throws {
        let text = try Fixture.text("uprobe_profile-6.18.txt")
        let entries = ProbeProfile.parseUserProfile(text)
        #expect(entries.count == text.split(separator: "\n").count)
        let entry = try #require(entries.first)
        #expect(entry.file == "/bin/true")
        #expect(entry.event == "start")
        #expect(entry.hits == 3)
        #expect(entry.misses == 0)
    }

    @Test func differencesSubtractTheSameProbeAndKeepNewOrRecreatedOnes() {
        let earlier = ProbeProfile(
            kernelProbes: [ProbeHits(event: "a", hits: 10, misses: 1), ProbeHits(event: "b", hits: 50)],
            userProbes: [ProbeHits(event: "u", file: "/bin/x", hits: 4)])
        let later = ProbeProfile(
            kernelProbes: [ProbeHits(event: "a", hits: 15, misses: 3), ProbeHits(event: "b", hits: 2),
                           ProbeHits(event: "c", hits: 7)],
            userProbes: [ProbeHits(event: "u", file: "/bin/x", hits: 9), ProbeHits(event: "u", file: "/bin/y", hits: 1)])
        let difference = later.difference(since: earlier)
        #expect(difference.kernelProbes == [ProbeHits(event: "a", hits: 5, misses: 2), ProbeHits(event: "b", hits: 2),
                                            ProbeHits(event: "c", hits: 7)])
        #expect(difference.userProbes == [ProbeHits(event: "u", file: "/bin/x", hits: 5),
                                          ProbeHits(event: "u", file: "/bin/y", hits: 1)])
    }

    @Test func skipsLinesOfAnotherShape() {
        #expect(ProbeProfile.parseKernelProfile("\n  name notanumber 3\n").isEmpty)
        #expect(ProbeProfile.parseUserProfile("  /bin/true start\n").isEmpty)
    }
}
