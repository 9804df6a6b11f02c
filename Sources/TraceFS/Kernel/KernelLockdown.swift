/// The kernel's lockdown mode, from `/sys/kernel/security/lockdown`.
///
/// In `confidentiality` mode the kernel refuses kprobes and hides most of tracefs; in `integrity`
/// mode tracing still works. Secure Boot turns lockdown on in many distributions.
public enum KernelLockdown: String, Sendable, Equatable {
    /// No lockdown.
    case none
    /// Lockdown that protects the kernel's integrity; tracing still works.
    case integrity
    /// Lockdown that also protects the kernel's secrets: no kprobes, no tracefs.
    case confidentiality
    /// securityfs is not readable, or the kernel has no lockdown support.
    case unknown

    /// The current mode: the bracketed word of `/sys/kernel/security/lockdown`.
    public static var current: KernelLockdown {
        guard let text = KernelFile.read("/sys/kernel/security/lockdown"),
              let open = text.firstIndex(of: "["),
              let close = text[open...].firstIndex(of: "]")
        else { return .unknown }
        return KernelLockdown(rawValue: String(text[text.index(after: open)..<close])) ?? .unknown
    }

    /// Whether this mode forbids kprobes and tracefs (LOCKDOWN_KPROBES, LOCKDOWN_TRACEFS).
    public var forbidsTracing: Bool { self == .confidentiality }
}
