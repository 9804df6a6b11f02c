/// One argument of a USDT probe, as the probe's note describes it, and the uprobe fetch argument
/// that reads it.
///
/// `sys/sdt.h` writes each argument as `SIZE@OPERAND`: the size in bytes, negative for a signed
/// value, and the operand in the assembler's syntax, where the value is at the probe's
/// instruction. On x86-64:
///
/// | note | operand | fetch argument |
/// | --- | --- | --- |
/// | `-4@%edi` | ``Operand-swift.enum/register(_:)`` `di` | `%di:s32` |
/// | `8@%rax` | ``Operand-swift.enum/register(_:)`` `ax` | `%ax:u64` |
/// | `-8@%r12d` | ``Operand-swift.enum/register(_:)`` `r12` | `%r12:s64` |
/// | `8@-80(%rbx)` | ``Operand-swift.enum/memory(base:offset:)`` | `-80(%bx):u64` |
/// | `8@8(%rsp)` | ``Operand-swift.enum/memory(base:offset:)`` | `+8(%sp):u64` |
/// | `-4@$5` | ``Operand-swift.enum/constant(_:)`` | `\5:s32` (the kernel's immediate value) |
/// | `8@foo(%rip)` | ``Operand-swift.enum/global(symbol:offset:)`` | `@+0x4010:u64` (`foo` relative to the probe's mapping) |
///
/// Registers of any width (`%rdi`, `%edi`, `%di`, `%dil`; `%r12`, `%r12d`, `%r12w`, `%r12b`) are read
/// as the kernel's 64-bit register (`%di`, `%r12`) and cut to the argument's size by the fetch
/// type. Refused, as ``Operand-swift.enum/unsupported(_:)`` with the reason: the high-byte
/// registers (`%ah`), registers the kernel cannot fetch (`%xmm0`), indexed addressing
/// (`8@(%rax,%rbx,8)`), a number relative to `%rip` (the note does not say which instruction it
/// is relative to), symbolic constants (`$foo`), absolute addresses, sizes other than 1, 2, 4 and
/// 8, and every argument of a file for another machine than x86-64.
public struct USDTArgument: Sendable, Hashable, CustomStringConvertible {
    /// Where the argument's value is when the probe fires.
    public enum Operand: Sendable, Hashable {
        /// A register's value, named as the kernel names the 64-bit register: `di` for `%edi`.
        case register(String)
        /// The memory at a register plus an offset: `-80(%rbx)` is `memory(base: "bx", offset: -80)`.
        case memory(base: String, offset: Int64)
        /// A constant (`$5`).
        case constant(Int64)
        /// A global variable, addressed relative to the instruction pointer: `foo+8(%rip)` is
        /// `global(symbol: "foo", offset: 8)`.
        case global(symbol: String, offset: Int64)
        /// A form that the kernel's fetch arguments cannot express, with the reason.
        case unsupported(String)
    }

    /// The argument as the note has it: `-4@%edi`.
    public let spec: String
    /// The value's size in bytes: 1, 2, 4 or 8.
    public let size: Int
    /// Whether the value is signed (a negative size in the note).
    public let isSigned: Bool
    /// Where the value is.
    public let operand: Operand
    /// For ``Operand-swift.enum/global(symbol:offset:)``: the offset the kernel's `@+offset` fetch
    /// needs (the variable's address relative to the probe's mapping), or why there is none.
    let globalFileOffset: Result<UInt64, USDTRefusal>?

    /// The kernel's fetch type for the value: `s32` for `-4@`, `u64` for `8@`.
    public var fetchType: String { (isSigned ? "s" : "u") + String(size * 8) }

    /// The uprobe fetch argument that reads the value (`%di:s32`, `-80(%bx):u64`), or `nil` when
    /// the kernel cannot fetch it (``refusal`` says why).
    public var fetchArgument: String? {
        location.map { $0 + ":" + fetchType }
    }

    /// The uprobe fetch argument that reads the string the value points to in the traced process:
    /// `+0(%bp):ustring` for `8@%rbp`. `nil` when the value is not a pointer-sized fetchable value
    /// (``userStringRefusal`` says why).
    public var userStringFetchArgument: String? {
        guard userStringRefusal == nil, let location else { return nil }
        return "+0(\(location)):ustring"
    }

    /// Why ``fetchArgument`` is `nil`, or `nil` when it is not.
    public var refusal: String? {
        switch operand {
        case .unsupported(let reason): reason
        case .global: globalFileOffset.flatMap { if case .failure(let refusal) = $0 { refusal.reason } else { nil } }
        default: nil
        }
    }

    /// Why ``userStringFetchArgument`` is `nil`, or `nil` when it is not.
    public var userStringRefusal: String? {
        if let refusal { return refusal }
        if case .constant = operand { return "\(spec) is a constant, not a pointer to a string in the traced process" }
        guard size == 8 else { return "\(spec) is \(size) bytes, not a pointer (8 bytes)" }
        return nil
    }

    /// The fetch argument's location part, without a type: `%di`, `-80(%bx)`, `\5`, `@+0x4010`.
    var location: String? {
        switch operand {
        case .register(let name): "%" + name
        case .memory(let base, let offset): (offset < 0 ? "\(offset)" : "+\(offset)") + "(%\(base))"
        case .constant(let value): "\\\(value)"
        case .global: globalFileOffset.flatMap { try? $0.get() }.map { "@+0x" + String($0, radix: 16) }
        case .unsupported: nil
        }
    }

    public var description: String { spec }

    /// Parses one argument of a note.
    ///
    /// - Parameters:
    ///   - spec: `SIZE@OPERAND`; an argument without `SIZE@` (notes of old `sys/sdt.h` versions) is
    ///     an unsigned 8-byte value.
    ///   - isX86_64: Whether the file is for x86-64, the only machine whose operands are read.
    ///   - globalFileOffset: What the kernel's `@+offset` fetch needs to read a global variable (a
    ///     `symbol+offset(%rip)` operand), or why there is none.
    init(_ spec: Substring, isX86_64: Bool = true,
         globalFileOffset: (_ symbol: String, _ offset: Int64) -> Result<UInt64, USDTRefusal> = { _, _ in
             .failure(USDTRefusal("the file's symbols were not read"))
         }) {
        self.spec = String(spec)
        var operandText = spec
        var size = 8, isSigned = false
        var sizeProblem: String?
        if let at = spec.firstIndex(of: "@") {
            let sizeText = spec[..<at]
            operandText = spec[spec.index(after: at)...]
            if let value = Int(sizeText), [1, 2, 4, 8].contains(abs(value)) {
                size = abs(value)
                isSigned = value < 0
            } else {
                sizeProblem = "\(spec): the size \(sizeText) is not 1, 2, 4 or 8 bytes"
            }
        }
        self.size = size
        self.isSigned = isSigned
        if let sizeProblem {
            operand = .unsupported(sizeProblem)
        } else if !isX86_64 {
            operand = .unsupported("\(spec): only x86-64 operands are read; this file is for another machine")
        } else {
            operand = Self.operand(operandText, spec: spec)
        }
        if case .global(let symbol, let offset) = operand {
            self.globalFileOffset = globalFileOffset(symbol, offset)
        } else {
            self.globalFileOffset = nil
        }
    }

    /// The operand of an x86-64 argument, in AT&T syntax.
    private static func operand(_ text: Substring, spec: Substring) -> Operand {
        if text.hasPrefix("%") {
            return register(text.dropFirst(), spec: spec).map(Operand.register) ?? .unsupported(registerProblem(text, spec: spec))
        }
        if text.hasPrefix("$") {
            guard let value = integer(text.dropFirst()) else {
                return .unsupported("\(spec): the constant \(text.dropFirst()) is not a number (a symbolic constant's "
                    + "value is not in the note)")
            }
            return .constant(value)
        }
        guard text.hasSuffix(")"), let open = text.firstIndex(of: "(") else {
            return .unsupported("\(spec): an absolute address or other form that is neither a register, a "
                + "constant nor memory at a register")
        }
        let displacement = text[..<open]
        let inside = text[text.index(after: open)..<text.index(before: text.endIndex)]
        if inside.contains(",") {
            return .unsupported("\(spec): indexed addressing (base, index, scale) cannot be expressed in the "
                + "kernel's fetch arguments")
        }
        guard inside.hasPrefix("%") else {
            return .unsupported("\(spec): the address \(inside) is not a register")
        }
        let baseName = inside.dropFirst()
        if baseName == "rip" || baseName == "eip" {
            guard let (symbol, offset) = symbolAndOffset(displacement) else {
                return .unsupported("\(spec): a number relative to %rip names no variable (the note does not say "
                    + "which instruction it is relative to)")
            }
            return .global(symbol: symbol, offset: offset)
        }
        guard let base = register(baseName, spec: spec) else {
            return .unsupported(registerProblem(inside, spec: spec))
        }
        guard let offset = displacement.isEmpty ? 0 : integer(displacement) else {
            return .unsupported("\(spec): the displacement \(displacement) is not a number")
        }
        return .memory(base: base, offset: offset)
    }

    /// The kernel's name of the 64-bit register that holds `name` (AT&T, without `%`), or `nil`.
    static func register(_ name: Substring, spec: Substring) -> String? {
        let name = String(name)
        for letter in ["a", "b", "c", "d"] where [
            "r\(letter)x", "e\(letter)x", "\(letter)x", "\(letter)l",
        ].contains(name) {
            return "\(letter)x"
        }
        for pair in ["si", "di", "bp", "sp"] where ["r\(pair)", "e\(pair)", pair, "\(pair)l"].contains(name) {
            return pair
        }
        if name.hasPrefix("r"), let number = Int(name.dropFirst().prefix(while: \.isNumber)), (8...15).contains(number) {
            let suffix = name.dropFirst(1 + String(number).count)
            if ["", "d", "w", "b", "l"].contains(suffix) { return "r\(number)" }
        }
        if name == "rip" || name == "eip" { return "ip" }
        return nil
    }

    private static func registerProblem(_ text: Substring, spec: Substring) -> String {
        if ["%ah", "%bh", "%ch", "%dh"].contains(text) {
            return "\(spec): \(text) is the second byte of a register, which the kernel's fetch arguments cannot "
                + "name"
        }
        return "\(spec): \(text) is not a general-purpose register the kernel can fetch"
    }

    /// A decimal or `0x` hexadecimal integer with an optional sign.
    static func integer(_ text: Substring) -> Int64? {
        var digits = text
        var negative = false
        if let sign = digits.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        let magnitude: UInt64?
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            magnitude = UInt64(digits.dropFirst(2), radix: 16)
        } else {
            magnitude = digits.allSatisfy(\.isASCII) ? UInt64(digits) : nil
        }
        guard let magnitude, magnitude <= UInt64(Int64.max) else { return nil }
        return negative ? -Int64(magnitude) : Int64(magnitude)
    }

    /// `foo`, `foo+8`, `foo-0x10`: a symbol (not a number) and an offset.
    private static func symbolAndOffset(_ text: Substring) -> (String, Int64)? {
        let sign = text.dropFirst().firstIndex { $0 == "+" || $0 == "-" }
        let symbol = sign.map { text[..<$0] } ?? text
        guard let first = symbol.first, first == "_" || first == "." || first.isLetter,
              symbol.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.$@".contains($0)) })
        else { return nil }
        guard let sign else { return (String(symbol), 0) }
        guard let offset = integer(text[sign...]) else { return nil }
        return (String(symbol), offset)
    }
}

/// Why a USDT argument cannot be fetched: a sentence for error messages.
struct USDTRefusal: Error, Hashable, Sendable {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
