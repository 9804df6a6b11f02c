import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// What the kernel under test offers, and what the run demands of it.
///
/// Tests that need a feature are enabled when the kernel has it, or when the run requires it:
/// the guest run sets `TRACEFS_REQUIRE_FEATURES=kprobes,uprobes,...`, so there a missing feature
/// makes the tests run and fail instead of being skipped.
enum KernelFeatures {
    static let capabilities: TracingCapabilities? = try? TracingCapabilities.current()

    static let required: Set<String> = {
        guard let value = getenv("TRACEFS_REQUIRE_FEATURES") else { return [] }
        return Set(String(cString: value).split(separator: ",").map(String.init))
    }()

    static var kprobes: Bool { capabilities?.kprobeEvents == true || required.contains("kprobes") }
    static var uprobes: Bool { capabilities?.uprobeEvents == true || required.contains("uprobes") }
    static var eprobes: Bool { capabilities?.eprobes == true || required.contains("eprobes") }
    static var synthetic: Bool { capabilities?.syntheticEvents == true || required.contains("synthetic") }
    static var histograms: Bool { capabilities?.histograms == true || required.contains("histograms") }
    /// The kernel lacks kprobe events and the run does not require them: this machine's kernel.
    static var kprobesMissing: Bool { capabilities?.kprobeEvents == false && !required.contains("kprobes") }
    static var isRoot: Bool { geteuid() == 0 }
    /// `/proc/kallsyms` can be read (CONFIG_KALLSYMS): kprobe symbols are checked against it.
    static var kallsymsReadable: Bool { access("/proc/kallsyms", R_OK) == 0 }
    /// Running inside the QEMU guest (scripts/guest-run sets GUEST_KERNEL), where everything is
    /// about ten times slower: long host-side soak tests stay on the host.
    static var inGuest: Bool { getenv("GUEST_KERNEL") != nil }
}
