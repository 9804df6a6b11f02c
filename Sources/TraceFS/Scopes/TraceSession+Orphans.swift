extension TraceSession {
    /// What ``removeOrphans()`` removed.
    public struct OrphanReport: Sendable, Equatable {
        /// Groups whose events were removed.
        public var groups: [String] = []
        /// How many events those groups held.
        public var events = 0
        /// Instances that were removed.
        public var instances: [String] = []
    }

    /// Removes the probes and instances of sessions whose process no longer exists: those named
    /// `swtf_<pid>_<start time>_<n>` where no process with that pid and start time runs. Every
    /// other event and instance is left alone, including those of sessions still running.
    ///
    /// - Returns: What was removed.
    /// - Throws: ``TraceFSError`` for the first thing that could not be removed.
    @discardableResult
    public static func removeOrphans() throws(TraceFSError) -> OrphanReport {
        var report = OrphanReport()
        var failure: TraceFSError?
        let events = try DynamicEvent.all()
        let orphanGroups = Set(events.map(\.system).filter { owner(of: $0).map { !$0.isAlive } ?? false })
        for group in orphanGroups.sorted() {
            // Disable them in every instance, then remove.
            let members = events.filter { $0.system == group }
            for event in members {
                do { try event.destroy(force: true) } catch { failure = failure ?? error }
            }
            report.groups.append(group)
            report.events += members.count
        }
        for name in try Instance.names() where owner(of: name).map({ !$0.isAlive }) ?? false {
            do {
                try Instance.open(named: name).destroy()
                report.instances.append(name)
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return report
    }

    /// The process a generated name belongs to, or `nil` for any other name.
    static func owner(of name: String) -> ProcessIdentity? {
        let parts = name.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == Substring(namePrefix), let pid = Int32(parts[1]),
              let start = UInt64(parts[2]), UInt64(parts[3]) != nil else { return nil }
        return ProcessIdentity(pid: pid, startTime: start)
    }
}
