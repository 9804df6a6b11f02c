/// One key of a histogram row, as what the kernel's modifier made it.
public enum HistogramKeyValue: Sendable, Hashable, CustomStringConvertible {
    /// A number printed in decimal (no modifier, or `.usecs`).
    case number(UInt64)
    /// A number printed in hexadecimal (`.hex`).
    case hex(UInt64)
    /// A string field's text.
    case string(String)
    /// A kernel address and the symbol it is in (`.sym`), with the module when not built in.
    case symbol(address: UInt64, name: String, module: String?)
    /// A kernel address as symbol, offset into it and the symbol's size (`.sym-offset`).
    case symbolOffset(address: UInt64, name: String, offset: UInt64, size: UInt64, module: String?)
    /// A pid and the command name the kernel saved for it (`.execname`).
    case execname(command: String, pid: Int32)
    /// A system call number and its name (`.syscall`).
    case syscall(name: String, number: Int)
    /// A power-of-two bucket (`.log2`): values `v` with 2^(n-1) < v <= 2^n.
    case log2(exponent: Int)
    /// A linear bucket (`.buckets=N`): values from `lower` through `upper`.
    case bucket(lower: UInt64, upper: UInt64)
    /// The kernel stack, innermost frame first (`stacktrace`), each frame as "function+0x1/0x2 [module]".
    case stackTrace([String])

    /// The values a log2 bucket holds, as the kernel rounds them: (2^(n-1), 2^n]; 0 and 1 for n = 0.
    public static func log2Range(exponent: Int) -> ClosedRange<UInt64> {
        guard exponent > 0 else { return 0...1 }
        guard exponent < 64 else { return (UInt64(1) << 63) + 1...UInt64.max }
        return (UInt64(1) << UInt64(exponent - 1)) + 1...(UInt64(1) << UInt64(exponent))
    }

    /// The values this key stands for: one number, or the bucket's range; `nil` for keys that are
    /// not numbers.
    public var range: ClosedRange<UInt64>? {
        switch self {
        case .number(let value), .hex(let value): value...value
        case .log2(let exponent): Self.log2Range(exponent: exponent)
        case .bucket(let lower, let upper): lower...upper
        case .symbol(let address, _, _), .symbolOffset(let address, _, _, _, _): address...address
        case .execname(_, let pid): UInt64(max(pid, 0))...UInt64(max(pid, 0))
        case .syscall(_, let number): UInt64(max(number, 0))...UInt64(max(number, 0))
        case .string, .stackTrace: nil
        }
    }

    public var description: String {
        switch self {
        case .number(let value): String(value)
        case .hex(let value): "0x" + String(value, radix: 16)
        case .string(let text): text
        case .symbol(_, let name, let module): name + (module.map { " [\($0)]" } ?? "")
        case .symbolOffset(_, let name, let offset, let size, let module):
            "\(name)+0x\(String(offset, radix: 16))/0x\(String(size, radix: 16))" + (module.map { " [\($0)]" } ?? "")
        case .execname(let command, let pid): "\(command) [\(pid)]"
        case .syscall(let name, let number): "\(name) [\(number)]"
        case .log2(let exponent): "~ 2^\(exponent)"
        case .bucket(let lower, let upper): "~ \(lower)-\(upper)"
        case .stackTrace(let frames): frames.joined(separator: " <- ")
        }
    }
}
