/// The kernel's hit counts of every kernel probe (`kprobe_profile`) and user probe
/// (`uprobe_profile`), read at one moment.
///
/// The kernel counts without any event being enabled for recording, so this is the cheapest way to
/// ask "how often was this function called". Two readings give the hits in between:
///
/// ```swift
/// let before = try ProbeProfile.read()
/// // ... the workload ...
/// let after = try ProbeProfile.read()
/// for probe in after.difference(since: before).kernelProbes where probe.hits > 0 {
///     print(probe)
/// }
/// ```
public struct ProbeProfile: Sendable, Hashable {
    /// Every kprobe and kretprobe, in the kernel's order.
    public let kernelProbes: [ProbeHits]
    /// Every uprobe and uretprobe, in the kernel's order.
    public let userProbes: [ProbeHits]

    /// Creates a profile from counts, for example ones parsed with ``parseKernelProfile(_:)``.
    public init(kernelProbes: [ProbeHits], userProbes: [ProbeHits]) {
        self.kernelProbes = kernelProbes
        self.userProbes = userProbes
    }

    /// Reads `kprobe_profile` and `uprobe_profile`. A kernel without one of the probe kinds gives
    /// an empty list for it.
    ///
    /// - Throws: ``TraceFSError``: `notMounted` or `permissionDenied` when tracefs cannot be read.
    public static func read() throws(TraceFSError) -> ProbeProfile {
        let directory = try TracingDirectory.path(for: "read the probe profiles")
        return ProbeProfile(
            kernelProbes: KernelFile.read(directory + "/kprobe_profile").map(parseKernelProfile) ?? [],
            userProbes: KernelFile.read(directory + "/uprobe_profile").map(parseUserProfile) ?? [])
    }

    /// The count of the kernel probe named `event`, if there is one.
    public func kernelProbe(named event: String) -> ProbeHits? {
        kernelProbes.first { $0.event == event }
    }

    /// The count of the user probe named `event`, if there is one.
    public func userProbe(named event: String) -> ProbeHits? {
        userProbes.first { $0.event == event }
    }

    /// The hits and misses since `earlier`: for each probe of this reading, its counts minus those
    /// of the same probe (same name and file) in `earlier`. A probe that is new, or that was
    /// recreated since (its counts went down), keeps its whole count.
    public func difference(since earlier: ProbeProfile) -> ProbeProfile {
        ProbeProfile(kernelProbes: Self.subtract(earlier.kernelProbes, from: kernelProbes),
                     userProbes: Self.subtract(earlier.userProbes, from: userProbes))
    }

    private static func subtract(_ earlier: [ProbeHits], from later: [ProbeHits]) -> [ProbeHits] {
        var previous: [String: ProbeHits] = [:]
        for entry in earlier { previous[key(entry)] = entry }
        return later.map { entry in
            guard let old = previous[key(entry)], old.hits <= entry.hits, old.misses <= entry.misses else {
                return entry
            }
            return ProbeHits(event: entry.event, file: entry.file,
                             hits: entry.hits - old.hits, misses: entry.misses - old.misses)
        }
    }

    private static func key(_ entry: ProbeHits) -> String {
        (entry.file ?? "") + "\u{0}" + entry.event
    }

    /// Parses the text of `kprobe_profile`: one line per probe, "event hits nmissed".
    /// Lines that do not have that shape are skipped.
    public static func parseKernelProfile(_ text: String) -> [ProbeHits] {
        text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count == 3, let hits = UInt64(words[1]), let misses = UInt64(words[2]) else { return nil }
            return ProbeHits(event: String(words[0]), hits: hits, misses: misses)
        }
    }

    /// Parses the text of `uprobe_profile`: one line per probe, "file event hits". Lines that do
    /// not have that shape are skipped.
    public static func parseUserProfile(_ text: String) -> [ProbeHits] {
        text.split(separator: "\n").compactMap { line in
            // The file comes first and is the only part that might hold a space: read from the right.
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count >= 3, let hits = UInt64(words[words.count - 1]) else { return nil }
            let file = words[0..<(words.count - 2)].joined(separator: " ")
            return ProbeHits(event: String(words[words.count - 2]), file: file, hits: hits)
        }
    }
}
