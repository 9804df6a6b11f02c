/// The triggers (`hist:`, `onmatch(...)`, `traceon`, ...) set on one event's `trigger` file, for
/// removing what a killed process left: a probe or synthetic event with a trigger on it cannot be
/// removed (EBUSY).
enum EventTriggers {
    /// Removes every trigger of `events/<system>/<event>/trigger` under each instance directory
    /// (the tracing directory itself and `instances/<name>`).
    ///
    /// Each trigger is removed by writing `!` and its line as the kernel lists it (what trace-cmd
    /// does). A trigger that another one depends on (the start histogram whose variables an
    /// `onmatch` action reads) is refused with EBUSY until the dependent is gone, so passes repeat
    /// while they make progress.
    ///
    /// - Returns: The first trigger still refused, with its file and errno, or `nil` when none is left.
    static func removeAll(
        of events: [(system: String, event: String)], under instanceDirectories: [String]
    ) -> (file: String, trigger: String, errno: Int32)? {
        let files = instanceDirectories.flatMap { directory in
            events.map { "\(directory)/events/\($0.system)/\($0.event)/trigger" }
        }
        var refused: (file: String, trigger: String, errno: Int32)?
        for _ in 0..<4 {
            refused = nil
            var removed = false
            for file in files {
                for trigger in list(file) {
                    let error = ControlFile.write(file, "!" + trigger)
                    if error == 0 { removed = true } else if refused == nil { refused = (file, trigger, error) }
                }
            }
            if refused == nil || !removed { break }
        }
        return refused
    }

    /// The triggers in `file`, as they are written (without the `[active]`/`[paused]` state).
    static func list(_ file: String) -> [String] {
        guard let text = KernelFile.read(file) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#") else { return nil }
            var trigger = line.trimmingSuffix(" [active]").trimmingSuffix(" [paused]")
            while trigger.last == " " { trigger.removeLast() }
            return trigger.isEmpty ? nil : removable(String(trigger))
        }
    }

    /// The text that removes `trigger`. The kernel lists a histogram's sort keys with their key's
    /// modifier (`sort=delta.log2`) but parses a sort key's suffix only as `.descending` or
    /// `.ascending` (EINVAL otherwise, seen on 6.1): the other suffixes are dropped.
    static func removable(_ trigger: String) -> String {
        guard trigger.hasPrefix("hist:") else { return trigger }
        return trigger.split(separator: ":", omittingEmptySubsequences: false).map { part in
            guard part.hasPrefix("sort=") else { return String(part) }
            let keys = part.dropFirst("sort=".count).split(separator: ",").map { key in
                let pieces = key.split(separator: ".")
                let direction = pieces.dropFirst().first { $0 == "descending" || $0 == "ascending" }
                return pieces.first.map { String($0) + (direction.map { ".\($0)" } ?? "") } ?? String(key)
            }
            return "sort=" + keys.joined(separator: ",")
        }.joined(separator: ":")
    }
}

private extension Substring {
    func trimmingSuffix(_ suffix: String) -> Substring {
        hasSuffix(suffix) ? dropLast(suffix.count) : self
    }
}
