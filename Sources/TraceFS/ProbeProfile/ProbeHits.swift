/// How often one kprobe, kretprobe, uprobe or uretprobe fired, as the kernel counts it in
/// `kprobe_profile` or `uprobe_profile`.
public struct ProbeHits: Sendable, Hashable, CustomStringConvertible {
    /// The event's name (the kernel's profile files do not name the group).
    public let event: String
    /// The probed binary of a uprobe; `nil` for kernel probes.
    public let file: String?
    /// How many times the probe was hit.
    public let hits: UInt64
    /// Kernel probes only: hits the kernel could not record, mostly kretprobe instances lost
    /// because more calls were in flight than the probe's `maxActive`; always 0 for uprobes.
    public let misses: UInt64

    /// Creates a count; the profile readers make these.
    public init(event: String, file: String? = nil, hits: UInt64, misses: UInt64 = 0) {
        self.event = event
        self.file = file
        self.hits = hits
        self.misses = misses
    }

    /// "open: 12 hits, 0 missed".
    public var description: String {
        (file.map { "\($0) " } ?? "") + "\(event): \(hits) hits, \(misses) missed"
    }
}
