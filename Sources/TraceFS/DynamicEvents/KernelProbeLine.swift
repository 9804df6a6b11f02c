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

    // Parsed on the UTF-8 view: the lines are ASCII the kernel wrote, and walking them by
    // Character (grapheme breaking) cost about 20,000 instructions a line, most of a probe's
    // removal (`make bench`, lifecycle).
    init?(_ line: Substring) {
        let bytes = line.utf8
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let rest = bytes[bytes.index(after: colon)...]
        // A synthetic event's name is followed by a tab (`s:synthetic/name\ts32 pid; u64 delta`).
        let nameEnd = rest.firstIndex { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") } ?? rest.endIndex
        guard let slash = rest[..<nameEnd].firstIndex(of: UInt8(ascii: "/")) else { return nil }
        let tailStart = rest[nameEnd...].firstIndex { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") } ?? rest.endIndex
        prefix = line[..<colon]
        system = line[rest.startIndex..<slash]
        event = line[bytes.index(after: slash)..<nameEnd]
        tail = line[tailStart...]
    }

    /// The lines of the kernel's `dynamic_events` (or, on kernels without that file, of
    /// `kprobe_events` and `uprobe_events`), grouped by "system/event". Case matters: `A/b` and
    /// `a/b` are different events to the kernel.
    static func byName(in tracingDirectory: String) -> [String: [KernelProbeLine]] {
        let text = KernelFile.read(tracingDirectory + "/dynamic_events")
            ?? [KernelFile.read(tracingDirectory + "/kprobe_events"), KernelFile.read(tracingDirectory + "/uprobe_events")]
                .compactMap { $0 }.joined()
        var lines: [String: [KernelProbeLine]] = [:]
        for bytes in text.utf8.split(separator: UInt8(ascii: "\n")) {
            let line = Substring(bytes)
            guard let parsed = KernelProbeLine(line) else { continue }
            lines["\(parsed.system)/\(parsed.event)", default: []].append(parsed)
        }
        return lines
    }
}
