import CTraceFS

extension DynamicEvent {
    /// Removes several probes at once: the kernel's list is read once, and with `force` each event
    /// is disabled once in each instance, so removing n events costs O(n) writes (destroying them
    /// one by one with `force` costs libtracefs a scan of every event per event).
    ///
    /// Each probe is removed as ``destroy(force:)`` removes it: only the probe the descriptor
    /// created or describes exactly; events that are gone already are skipped.
    ///
    /// - Parameters:
    ///   - events: The probes to remove.
    ///   - force: Disable each event in every instance first (when the probe is its only one).
    /// - Throws: ``TraceFSError`` for the first probe that could not be removed; the others are
    ///   still attempted.
    ///
    /// Built on `tracefs_instance_file_append` (writing `-:system/event address arguments` to
    /// `dynamic_events`) and on writing `0` to each instance's `events/system/event/enable`.
    public static func destroy(_ events: [DynamicEvent], force: Bool = false) throws(TraceFSError) {
        guard !events.isEmpty else { return }
        let directory = try TracingDirectory.path(for: "destroy \(events.count) dynamic events")
        let listed = KernelProbeLine.byName(in: directory)
        var removals: [(event: DynamicEvent, command: String, isOnlyProbe: Bool)] = []
        for event in events {
            let name = "\(event.system)/\(event.event)"
            let tail = event.kernelTail
            // Gone already, or the name now holds only probes that are not this one. A synthetic
            // event is one definition whose fields the kernel spells its own way: its name is it.
            guard let lines = listed[name],
                  event.kind == .synthetic || lines.contains(where: { $0.tail == tail }) else { continue }
            // Eprobes and synthetic events have one definition per event, and how the kernel
            // compares their arguments differs between versions: they are removed by name.
            let byName = event.kind == .eprobe || event.kind == .synthetic || tail.isEmpty
            removals.append((event, "-:\(name)" + (byName ? "" : " \(tail)"), lines.count == 1))
        }
        if force {
            let instances = (ControlFile.subdirectories(of: directory + "/instances") ?? []).map { "\(directory)/instances/\($0)" }
            for removal in removals where removal.isOnlyProbe {
                for base in [directory] + instances {
                    // A missing file means the instance went away meanwhile: nothing to disable.
                    _ = ControlFile.write("\(base)/events/\(removal.event.system)/\(removal.event.event)/enable", "0")
                }
            }
        }
        var failure: TraceFSError?
        for removal in removals {
            let event = removal.event
            do {
                try KernelWrite.perform(
                    "tracefs_instance_file_append", operation: "destroy \(event.description)", kinds: Kinds(event.kind),
                    subject: "\(event.system)/\(event.event)", command: nil, absentIsSuccess: true
                ) { directory in
                    let file = KernelFile.exists(directory + "/dynamic_events") ? "dynamic_events"
                        : event.kind == .uprobe || event.kind == .uretprobe ? "uprobe_events" : "kprobe_events"
                    return Int32(clamping: tracefs_instance_file_append(nil, file, removal.command + "\n"))
                }
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
    }
}
