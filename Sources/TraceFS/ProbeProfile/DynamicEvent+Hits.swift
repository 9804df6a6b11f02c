extension DynamicEvent {
    /// How often this probe fired, from the kernel's `kprobe_profile` or `uprobe_profile`; `nil`
    /// for eprobes and synthetic events (the kernel counts neither) and for a probe that is not
    /// created.
    ///
    /// - Throws: ``TraceFSError`` when tracefs cannot be read.
    public func hits() throws(TraceFSError) -> ProbeHits? {
        let profile = try ProbeProfile.read()
        switch kind {
        case .kprobe, .kretprobe:
            return profile.kernelProbe(named: event)
        case .uprobe, .uretprobe:
            // Names are per group in the kernel, the profile lists only the event name: the file
            // narrows it down to this probe's binary.
            let file = address.map { String($0[..<($0.lastIndex(of: ":") ?? $0.endIndex)]) }
            return profile.userProbes.first { $0.event == event && (file == nil || $0.file == file) }
        case .eprobe, .synthetic:
            return nil
        }
    }
}
