import TraceFS

/// Seeded lists of valid typed fetch arguments for one kind of probe: registers, the stack,
/// `$comm`, dereferences up to three deep with every type (arrays and bitfields included),
/// `@+offset` on uprobes, `$argN`, `@symbol` and `+u` on kprobes, `$retval` on return probes.
struct FetchArgumentGenerator {
    var random: SeededGenerator
    let kind: DynamicEvent.Kind
    /// The probed file's size, for `@+offset` (uprobes).
    let fileSize: UInt64

    init(seed: UInt64, kind: DynamicEvent.Kind, fileSize: UInt64 = 0) {
        random = SeededGenerator(seed: seed)
        self.kind = kind
        self.fileSize = fileSize
    }

    private var isUser: Bool { kind == .uprobe || kind == .uretprobe }
    private var isReturn: Bool { kind == .kretprobe || kind == .uretprobe }

    mutating func below(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }
    mutating func pick<T>(_ values: [T]) -> T { values[below(values.count)] }

    /// 1 to 8 arguments with distinct names, each valid for `kind`.
    mutating func list() -> [FetchArgument] {
        let count = 1 + below(8)
        var arguments: [FetchArgument] = []
        while arguments.count < count {
            let name = pick(["a", "value", "_x", "Field", "n"]) + "\(arguments.count)"
            let value = value(depth: below(4))
            let argument = FetchArgument(name, value, as: type(for: value))
            if (try? FetchArgument.check([argument], for: kind)) != nil { arguments.append(argument) }
        }
        return arguments
    }

    mutating func value(depth: Int) -> FetchValue {
        if depth > 0 {
            let offset = Int64(below(129)) - 64
            if !isUser, below(4) == 0 { return .userDereference(offset: offset, value(depth: depth - 1)) }
            return .dereference(offset: offset, value(depth: depth - 1))
        }
        var choices: [FetchValue] = [
            .register(pick(FetchValue.registers)), .stackAddress, .stackEntry(below(17)), .comm, .immediate(Int64(below(2000)) - 1000),
        ]
        if isUser, fileSize > 8 { choices.append(.fileOffset(random.next() % (fileSize - 8))) }
        if kind == .kprobe { choices += [.argument(1 + below(4)), .argument(1 + below(4))] }
        if !isUser { choices.append(.symbol("init_task", offset: Int64(below(8)) * 8)) }
        if isReturn { choices += [.returnValue, .returnValue] }
        return pick(choices)
    }

    mutating func type(for value: FetchValue) -> FetchType? {
        if value == .comm { return pick([nil, .string]) }
        let isMemory = switch value {
        case .dereference, .userDereference, .symbol, .address, .fileOffset: true
        default: false
        }
        var choices: [FetchType?] = [nil, integer(), integer(), integer(), bitfield()]
        if !isUser { choices.append(.symbol) }
        if isMemory {
            choices += [.string, .userString, .array(integer(), count: 1 + below(64)),
                        .array(bitfield(), count: 1 + below(8))]
        }
        return pick(choices)
    }

    mutating func integer() -> FetchType {
        let bits = pick([8, 16, 32, 64])
        return pick([.unsigned(bits), .signed(bits), .hex(bits)])
    }

    mutating func bitfield() -> FetchType {
        let container = pick([8, 16, 32, 64])
        let width = 1 + below(container)
        return .bitfield(width: width, offset: below(container - width + 1), container: container)
    }
}
