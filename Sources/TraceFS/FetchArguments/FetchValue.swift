/// Where a fetch argument's value comes from: the part of a probe's argument before `:TYPE`.
///
/// ```swift
/// let values: [FetchValue] = [.register("di"), .argument(2), .returnValue, .stackEntry(3), .stackAddress, .comm,
///                             .symbol("jiffies"), .address(0xffff_ffff_8100_0000), .fileOffset(0x10),
///                             .dereference(offset: 8, .dereference(offset: 0, .register("sp"))),
///                             .userDereference(offset: -4, .argument(1)), .immediate(-5), .field("filename")]
/// print(values.map(\.description).joined(separator: " "))
/// // %di $arg2 $retval $stack3 $stack $comm @jiffies @0xffffffff81000000 @+0x10 +8(+0(%sp)) -u4($arg1) \-5 $filename
/// ```
///
/// Which values a probe may use depends on its kind (the kernel's `kprobetrace.rst`,
/// `uprobetracer.rst` and `eprobetrace.rst`, Linux 6.1):
///
/// | value | kprobe | kretprobe | uprobe | uretprobe | eprobe |
/// | --- | --- | --- | --- | --- | --- |
/// | ``register(_:)``, ``stackEntry(_:)``, ``stackAddress`` | yes | yes | yes | yes | no |
/// | ``argument(_:)`` | at a function's entry (x86-64) | no | no | no | no |
/// | ``returnValue`` | no | yes | no | yes | no |
/// | ``comm``, ``address(_:)``, ``dereference(offset:_:)``, ``immediate(_:)`` | yes | yes | yes | yes | yes |
/// | ``symbol(_:offset:)``, ``userDereference(offset:_:)`` | yes | yes | no | no | yes |
/// | ``fileOffset(_:)`` | no | no | yes | yes | no |
/// | ``field(_:)`` | no | no | no | no | yes |
///
/// `Sendable`: a value type of strings, integers and nested values only.
public indirect enum FetchValue: Sendable, Hashable, CustomStringConvertible {
    /// `%REG`: a register, by the kernel's x86-64 name without `%`: `ax`, `bx`, `cx`, `dx`, `si`,
    /// `di`, `bp`, `sp`, `r8` ... `r15`, `ip`, `flags`, `cs`, `ss`, `orig_ax`.
    case register(String)
    /// `$argN`: the function's `N`th argument (from 1), on a kprobe at a function's entry.
    case argument(Int)
    /// `$retval`: the return value, on return probes.
    case returnValue
    /// `$stackN`: the `N`th word of the stack (from 0).
    case stackEntry(Int)
    /// `$stack`: the stack pointer's value.
    case stackAddress
    /// `$comm`: the current task's command name, a string.
    case comm
    /// `@SYM[+|-offset]`: memory at a kernel data symbol plus `offset` bytes.
    case symbol(String, offset: Int64 = 0)
    /// `@ADDR`: memory at an address (in the kernel for kprobes and eprobes, in the process for uprobes).
    case address(UInt64)
    /// `@+OFFSET`: memory at a file offset of the probed file, on uprobes.
    case fileOffset(UInt64)
    /// `+|-OFFSET(VALUE)`: memory at `VALUE` plus `offset` bytes (user memory on uprobes).
    case dereference(offset: Int64, FetchValue)
    /// `+|-uOFFSET(VALUE)`: user memory at `VALUE` plus `offset`, from a kprobe or eprobe.
    case userDereference(offset: Int64, FetchValue)
    /// `\IMM`: a constant.
    case immediate(Int64)
    /// `$FIELD`: a field of the event an eprobe is attached to.
    case field(String)

    /// The kernel's registers on x86-64 (`regoffset_table` in arch/x86/kernel/ptrace.c).
    public static let registers: [String] = [
        "ax", "bx", "cx", "dx", "si", "di", "bp", "sp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
        "ip", "flags", "cs", "ss", "orig_ax",
    ]

    /// The kernel's text: `%di`, `+8(+0(%sp))`, `@jiffies+16`.
    public var description: String {
        switch self {
        case .register(let name): "%\(name)"
        case .argument(let index): "$arg\(index)"
        case .returnValue: "$retval"
        case .stackEntry(let index): "$stack\(index)"
        case .stackAddress: "$stack"
        case .comm: "$comm"
        case .symbol(let name, let offset): "@\(name)" + (offset == 0 ? "" : Self.signed(offset))
        case .address(let address): "@0x\(String(address, radix: 16))"
        case .fileOffset(let offset): "@+0x\(String(offset, radix: 16))"
        case .dereference(let offset, let base): "\(Self.signed(offset))(\(base))"
        case .userDereference(let offset, let base):
            (offset < 0 ? "-u" : "+u") + "\(offset.magnitude)(\(base))"
        case .immediate(let value): "\\\(value)"
        case .field(let name): "$\(name)"
        }
    }

    /// Whether the value is memory the kernel reads (a dereference or an `@` form): the only
    /// values that may be arrays.
    var isMemory: Bool {
        switch self {
        case .dereference, .userDereference, .symbol, .address, .fileOffset: true
        default: false
        }
    }

    /// How many dereferences deep the value is.
    var depth: Int {
        switch self {
        case .dereference(_, let base), .userDereference(_, let base): 1 + base.depth
        default: 0
        }
    }

    private static func signed(_ value: Int64) -> String {
        (value < 0 ? "-" : "+") + "\(value.magnitude)"
    }
}
