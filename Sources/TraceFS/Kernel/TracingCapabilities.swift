/// What this kernel's tracefs offers, read from the tracing directory.
///
/// ```swift
/// let capabilities = try TracingCapabilities.current()
/// if !capabilities.kprobeEvents { print("no kprobes here") }
/// ```
public struct TracingCapabilities: Sendable, Equatable, CustomStringConvertible {
    /// Where tracefs is mounted, usually `/sys/kernel/tracing`.
    public let tracingDirectory: String
    /// Kernel probes (`kprobe_events`, CONFIG_KPROBE_EVENTS): kprobes and kretprobes.
    public let kprobeEvents: Bool
    /// User-space probes (`uprobe_events`, CONFIG_UPROBE_EVENTS): uprobes and uretprobes.
    public let uprobeEvents: Bool
    /// Event probes (CONFIG_EPROBE_EVENTS). tracefs documents their syntax even where they are
    /// missing, so this is read from the kernel's symbols (`/proc/kallsyms`).
    public let eprobes: Bool
    /// Synthetic events (`synthetic_events`, CONFIG_SYNTH_EVENTS).
    public let syntheticEvents: Bool
    /// Histogram triggers (CONFIG_HIST_TRIGGERS), as documented in tracefs's README.
    public let histograms: Bool
    /// The unified `dynamic_events` control file.
    public let dynamicEvents: Bool
    /// Trace instances (`instances/`).
    public let instances: Bool
    /// The kernel's lockdown mode.
    public let lockdown: KernelLockdown

    /// Reads what the running kernel offers, mounting tracefs first when it is not mounted and we
    /// may.
    ///
    /// - Throws: ``TraceFSError`` with ``TraceFSError/Code-swift.struct/notMounted`` or
    ///   ``TraceFSError/Code-swift.struct/permissionDenied`` when there is no tracefs to read, or
    ///   ``TraceFSError/Code-swift.struct/lockedDown`` when lockdown hides it.
    public static func current() throws(TraceFSError) -> TracingCapabilities {
        let lockdown = KernelLockdown.current
        let directory: String
        do {
            directory = try TracingDirectory.path(for: "read the kernel's tracing capabilities")
        } catch where lockdown.forbidsTracing {
            throw TraceFSError(
                .lockedDown, operation: "read the kernel's tracing capabilities",
                reason: "kernel lockdown (confidentiality) forbids tracefs; boot without "
                    + "'lockdown=confidentiality' or with Secure Boot lockdown lifted",
                function: error.function, errno: error.errno)
        }
        return TracingCapabilities(directory: directory, lockdown: lockdown)
    }

    init(directory: String, lockdown: KernelLockdown) {
        tracingDirectory = directory
        self.lockdown = lockdown
        kprobeEvents = Self.kernelSupports(.kprobe, in: directory)
        uprobeEvents = Self.kernelSupports(.uprobe, in: directory)
        syntheticEvents = Self.kernelSupports(.synthetic, in: directory)
        eprobes = Self.kernelSupports(.eprobe, in: directory)
        dynamicEvents = KernelFile.exists(directory + "/dynamic_events")
        instances = KernelFile.isDirectory(directory + "/instances")
        histograms = KernelFile.read(directory + "/README")?.contains("hist:keys") ?? false
    }

    /// Whether the kernel has the feature behind `kind`, checking only that one feature.
    static func kernelSupports(_ kind: DynamicEvent.Kind, in directory: String) -> Bool {
        switch kind {
        case .kprobe, .kretprobe: KernelFile.exists(directory + "/kprobe_events")
        case .uprobe, .uretprobe: KernelFile.exists(directory + "/uprobe_events")
        case .synthetic: KernelFile.exists(directory + "/synthetic_events")
        case .eprobe: kernelHasSymbol("__trace_eprobe_create")
        }
    }

    /// Whether the kernel can create dynamic events of `kind`.
    public func supports(_ kind: DynamicEvent.Kind) -> Bool {
        switch kind {
        case .kprobe, .kretprobe: kprobeEvents && !lockdown.forbidsTracing
        case .uprobe, .uretprobe: uprobeEvents
        case .eprobe: eprobes
        case .synthetic: syntheticEvents
        }
    }

    public var description: String {
        let features: [(String, Bool)] = [
            ("kprobes", kprobeEvents), ("uprobes", uprobeEvents), ("eprobes", eprobes),
            ("synthetic", syntheticEvents), ("histograms", histograms),
            ("dynamic_events", dynamicEvents), ("instances", instances),
        ]
        let list = features.map { "\($0.0)=\($0.1 ? "yes" : "no")" }.joined(separator: " ")
        return "tracefs at \(tracingDirectory): \(list) lockdown=\(lockdown.rawValue)"
    }

    /// Whether `/proc/kallsyms` lists `symbol` (names are visible to root even when addresses
    /// are hidden).
    private static func kernelHasSymbol(_ symbol: String) -> Bool {
        guard let symbols = KernelFile.read("/proc/kallsyms") else { return false }
        for line in symbols.split(separator: "\n") where line.hasSuffix(symbol) {
            if line.split(separator: " ").last == Substring(symbol) { return true }
        }
        return false
    }
}
