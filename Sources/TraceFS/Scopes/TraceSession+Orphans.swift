extension TraceSession {
    /// What ``removeOrphans()`` removed, and what it left alone.
    public struct OrphanReport: Sendable, Equatable {
        /// Groups whose events were removed.
        public var groups: [String] = []
        /// How many events those groups held, with the synthetic events of the same names.
        public var events = 0
        /// Instances that were removed.
        public var instances: [String] = []
        /// Generated names with events but no instance of the same name, whose process therefore
        /// cannot be proved dead (a session started with its own `instanceName`): left alone.
        public var undecided: [String] = []
    }

    /// Removes the probes, synthetic events, triggers and instances of sessions whose process no
    /// longer exists, and nothing else: not other tools' events, not sessions still running, in
    /// this or any other PID or time namespace.
    ///
    /// A session is known by its generated name (`swtf_<pid>_<start time>_<n>`) and proved dead by
    /// the lock its process holds on its instance `instances/<name>` for as long as it lives:
    /// pids and start times differ between namespaces, the lock does not. A name whose lock is
    /// held belongs to a live session; one without an instance of that name cannot be proved dead
    /// and is reported as ``OrphanReport/undecided``.
    ///
    /// Use it (or the `tracefs reap` command) after a process was killed with SIGKILL; SIGINT and
    /// SIGTERM end sessions by themselves (``endsOnTerminationSignals``).
    ///
    /// - Returns: What was removed.
    /// - Throws: ``TraceFSError`` for the first thing that could not be removed; the rest is
    ///   still attempted.
    @discardableResult
    public static func removeOrphans() throws(TraceFSError) -> OrphanReport {
        let directory = try TracingDirectory.path(for: "remove orphaned trace sessions")
        var report = OrphanReport()
        var failure: TraceFSError?
        let events = try DynamicEvent.all()
        let instances = try Instance.names()
        var names = Set(instances.filter(isGenerated))
        for event in events {
            let name = event.kind == .synthetic ? event.event : event.system
            if isGenerated(name) { names.insert(name) }
        }
        for name in names.sorted() {
            let probes = events.filter { $0.kind != .synthetic && $0.system == name }
            let synthetic = events.filter { $0.kind == .synthetic && $0.event == name }
            let lock: SessionLock
            switch SessionLock.attempt("\(directory)/instances/\(name)") {
            case .held:
                continue
            case .missing:
                report.undecided.append(name)
                continue
            case .taken(let taken):
                lock = taken
            }
            // Holding the lock: what `name` made is ours to remove. Triggers first (they keep
            // events busy), then the synthetic event that reads the probes, the probes, and the
            // instance last.
            let instanceDirectories = [directory] + instances.map { "\(directory)/instances/\($0)" }
            let triggered = synthetic.map { (system: SyntheticEvent.system, event: $0.event) }
                + probes.map { (system: $0.system, event: $0.event) }
            if let refused = EventTriggers.removeAll(of: triggered, under: instanceDirectories) {
                failure = failure ?? TraceFSError(
                    TraceFSError.Code.from(errno: refused.errno), operation: "remove the triggers of orphaned session \(name)",
                    reason: "the kernel refused to remove '\(ProbeInput.display(refused.trigger))' from \(refused.file)",
                    errno: refused.errno)
            }
            for event in synthetic + probes {
                do { try event.destroy(force: true) } catch { failure = failure ?? error }
            }
            if !probes.isEmpty { report.groups.append(name) }
            report.events += probes.count + synthetic.count
            if instances.contains(name) {
                do {
                    try Instance.open(named: name).destroy()
                    report.instances.append(name)
                } catch {
                    failure = failure ?? error
                }
            }
            withExtendedLifetime(lock) {}
        }
        if let failure { throw failure }
        return report
    }

    /// Whether `name` has the shape of a generated session name.
    static func isGenerated(_ name: String) -> Bool {
        let parts = name.split(separator: "_", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == Substring(namePrefix) && Int32(parts[1]) != nil
            && UInt64(parts[2]) != nil && UInt64(parts[3]) != nil
    }
}
