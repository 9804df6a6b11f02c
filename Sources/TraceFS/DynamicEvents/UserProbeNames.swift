/// The names of the kernel's uprobes and uretprobes, from `uprobe_events`.
///
/// libtracefs 1.6.4 classifies the lines of `dynamic_events` by their prefix alone, and `p` and `r`
/// begin kprobes and uprobes alike, so it reports every uprobe there as a kprobe as well (and a
/// uretprobe as a kretprobe). An event that libtracefs calls a kernel probe but that
/// `uprobe_events` lists is such a misreading. The file is read once, on first use.
struct UserProbeNames {
    private let path: String
    private var names: Set<Substring>?

    init(tracingDirectory: String) {
        path = tracingDirectory + "/uprobe_events"
    }

    /// Whether libtracefs reported a uprobe as a kprobe (or a uretprobe as a kretprobe).
    mutating func isMisreported(_ event: DynamicEvent) -> Bool {
        guard event.kind == .kprobe || event.kind == .kretprobe else { return false }
        if names == nil { names = Self.parse(KernelFile.read(path) ?? "") }
        return names!.contains(Substring("\(event.system)/\(event.event)"))
    }

    /// "p:group/event /bin/true:0x0000000000001000 arg=%ax" gives "group/event".
    static func parse(_ text: String) -> Set<Substring> {
        var names = Set<Substring>()
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            names.insert(line[line.index(after: colon)...].prefix(while: { $0 != " " }))
        }
        return names
    }
}
