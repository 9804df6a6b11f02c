/// One line of the kernel's `dynamic_events`, as the kernel prints it:
/// `p:group/event /bin/true:0x0000000000001000 a=%ax`.
///
/// The kernel lets several probes share one event (it appends a probe with compatible arguments to
/// an existing event instead of failing), so one name can have several lines. What follows the
/// name (``tail``) is exactly what the kernel's own removal command `-:group/event <tail>` compares
/// against, which removes that one probe and leaves the event's other probes alone.
struct KernelProbeLine: Equatable {
    /// "p", "r", "r16", "e", "s".
    let prefix: Substring
    let system: Substring
    let event: Substring
    /// The address and fetch arguments, separated by single spaces as the kernel prints them.
    let tail: Substring

    init?(_ line: Substring) {
        guard let colon = line.firstIndex(of: ":") else { return nil }
        let rest = line[line.index(after: colon)...]
        // A synthetic event's name is followed by a tab (`s:synthetic/name\ts32 pid; u64 delta`).
        let name = rest.prefix(while: { $0 != " " && $0 != "\t" })
        guard let slash = name.firstIndex(of: "/") else { return nil }
        prefix = line[..<colon]
        system = name[..<slash]
        event = name[name.index(after: slash)...]
        tail = rest[name.endIndex...].drop(while: { $0 == " " || $0 == "\t" })
    }

    /// The lines of the kernel's `dynamic_events` (or, on kernels without that file, of
    /// `kprobe_events` and `uprobe_events`), grouped by "system/event". Case matters: `A/b` and
    /// `a/b` are different events to the kernel.
    static func byName(in tracingDirectory: String) -> [String: [KernelProbeLine]] {
        let text = KernelFile.read(tracingDirectory + "/dynamic_events")
            ?? [KernelFile.read(tracingDirectory + "/kprobe_events"), KernelFile.read(tracingDirectory + "/uprobe_events")]
                .compactMap { $0 }.joined()
        var lines: [String: [KernelProbeLine]] = [:]
        for line in text.split(separator: "\n") {
            guard let parsed = KernelProbeLine(line) else { continue }
            lines["\(parsed.system)/\(parsed.event)", default: []].append(parsed)
        }
        return lines
    }
}
