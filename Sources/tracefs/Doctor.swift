import ArgumentParser
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// What this kernel supports, why a feature is missing, and what to do about it.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what this kernel's tracefs supports, and how to get what is missing.",
        discussion: """
            Examples:
              tracefs doctor

            Each feature line says yes or no; a 'no' names the kernel option behind it (such as \
            CONFIG_KPROBE_EVENTS) and which subcommands need it. Exits 1 when tracefs cannot be used \
            at all (not mounted, not root, kernel lockdown).
            """)

    func run() async throws {
        let root = geteuid() == 0
        let capabilities: TracingCapabilities
        do {
            capabilities = try TracingCapabilities.current()
        } catch {
            print("tracefs: cannot be used: \(error)")
            switch error.code {
            case .notMounted:
                print("fix: mount it with 'mount -t tracefs nodev /sys/kernel/tracing' (as root), or build the kernel with CONFIG_FTRACE")
            case .permissionDenied:
                print("fix: run as root\(root ? "" : " (you are uid \(geteuid()))"), or give your user access to /sys/kernel/tracing")
            case .lockedDown:
                print("fix: boot without 'lockdown=confidentiality' (see /sys/kernel/security/lockdown)")
            default:
                print("fix: check that tracefs is mounted at /sys/kernel/tracing and that you are root")
            }
            throw ExitCode(1)
        }
        print("tracefs at \(capabilities.tracingDirectory), running as \(root ? "root" : "uid \(geteuid()) (most features need root)")")
        print("lockdown: \(capabilities.lockdown.rawValue)"
            + (capabilities.lockdown.forbidsTracing ? " (forbids kprobes and reading kernel memory; boot without lockdown=confidentiality)" : ""))
        for line in Self.report(capabilities) { print(line) }
    }

    /// One line per feature: name, yes/no, and for a no, the kernel option and who needs it.
    static func report(_ capabilities: TracingCapabilities) -> [String] {
        let kprobes = capabilities.supports(.kprobe)
        let features: [(String, Bool, String)] = [
            ("kprobes", kprobes, capabilities.kprobeEvents
                ? "kernel lockdown forbids them; boot without lockdown=confidentiality"
                : "build the kernel with CONFIG_KPROBE_EVENTS=y; needed by trace of kernel functions, funccount, funclatency of kernel functions"),
            ("uprobes", capabilities.uprobeEvents,
             "build the kernel with CONFIG_UPROBE_EVENTS=y; needed by trace of /path:function probes"),
            ("eprobes", capabilities.eprobes, "build the kernel with CONFIG_EPROBE_EVENTS=y (Linux 5.15+)"),
            ("synthetic events", capabilities.syntheticEvents,
             "build the kernel with CONFIG_SYNTH_EVENTS=y; needed by funclatency and sql"),
            ("histograms", capabilities.histograms,
             "build the kernel with CONFIG_HIST_TRIGGERS=y; needed by funclatency, hist and sql"),
            ("dynamic_events", capabilities.dynamicEvents, "a kernel older than 4.17; probes still work through kprobe_events"),
            ("instances", capabilities.instances, "a kernel without trace instances; sessions cannot be made"),
        ]
        return features.map { name, present, fix in
            let padded = name.padding(toLength: 18)
            return present ? "  \(padded)yes" : "  \(padded)no   \(fix)"
        }
    }
}

extension String {
    /// The string padded with spaces on the right to `length` characters (never cut).
    func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }

    /// The string padded with spaces on the left to `length` characters (never cut).
    func leftPadding(toLength length: Int) -> String {
        count >= length ? self : String(repeating: " ", count: length - count) + self
    }
}
