/// The kernel's rules for one fetch argument (kernel/trace/trace_probe.c, Linux 6.1), checked
/// before anything is written so that a mistake is named here rather than refused by the kernel.
extension FetchArgument {
    /// Names every probe event already has, which the kernel refuses for arguments.
    static let reservedPrefixes = ["common_", "__probe_"]

    func check(for kind: DynamicEvent.Kind, atFunctionEntry: Bool, input: ProbeInput) throws(TraceFSError) {
        let label = "fetch argument \(ProbeInput.display(description))"
        func refuse(_ reason: String) -> TraceFSError { input.invalid("\(label): \(reason)") }

        if let problem = Self.nameProblem(name) { throw refuse("the name \(problem)") }
        if let prefix = Self.reservedPrefixes.first(where: name.hasPrefix) {
            throw refuse("names starting with '\(prefix)' are the event's own fields (common_pid, __probe_ip, ...); "
                + "choose another name")
        }
        try checkValue(value, for: kind, atFunctionEntry: atFunctionEntry, refuse: refuse)
        if let type { try checkType(type, refuse: refuse) }
        try checkCombination(for: kind, refuse: refuse)
        if expression.utf8.count > Self.maximumExpressionLength {
            throw refuse("\(ProbeInput.display(expression)) is \(expression.utf8.count) characters long; "
                + "the kernel reads at most "
                + "\(Self.maximumExpressionLength) (MAX_ARGSTR_LEN) after the name: dereference less deeply")
        }
    }

    /// Why `name` is not a valid argument name, or `nil`.
    static func nameProblem(_ name: String) -> String? {
        guard let first = name.unicodeScalars.first else { return "is empty" }
        guard isWordScalar(first), !("0"..."9").contains(first) else {
            return "\(ProbeInput.display(name)) must start with an ASCII letter or '_'"
        }
        guard name.unicodeScalars.allSatisfy(isWordScalar) else {
            return "\(ProbeInput.display(name)) is not a C identifier (ASCII letters, digits and '_')"
        }
        guard name.utf8.count <= maximumNameLength else {
            return "is \(name.utf8.count) characters long, more than the kernel's \(maximumNameLength)"
        }
        return nil
    }

    /// An ASCII letter, digit or `_`.
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_"
    }

    private func checkValue(
        _ value: FetchValue, for kind: DynamicEvent.Kind, atFunctionEntry: Bool,
        refuse: (String) -> TraceFSError
    ) throws(TraceFSError) {
        let isKernel = kind == .kprobe || kind == .kretprobe
        let isUser = kind == .uprobe || kind == .uretprobe
        let isReturn = kind == .kretprobe || kind == .uretprobe
        switch value {
        case .register(let register):
            guard kind != .eprobe else { throw refuse("eprobes read the target event's fields ($field), not registers") }
            guard FetchValue.registers.contains(register) else {
                throw refuse("\(ProbeInput.display(register)) is not an x86-64 register the kernel names; use one of "
                    + FetchValue.registers.joined(separator: ", ") + " (without '%')")
            }
        case .argument(let index):
            guard kind == .kprobe else {
                throw refuse("$argN exists only on kprobes at a function's entry (Linux 6.1 has none on \(kind)s); "
                    + (isUser ? "read the register that holds it (x86-64: di, si, dx, cx, r8, r9)" : "use a kprobe"))
            }
            guard atFunctionEntry else {
                throw refuse("$argN exists only at a function's entry, and this kprobe's address has an offset")
            }
            guard (1...2048).contains(index) else { throw refuse("arguments count from 1 (to 2048)") }
        case .returnValue:
            guard isReturn else {
                throw refuse("$retval exists only on return probes; use DynamicEvent.\(isUser ? "uretprobe" : "kretprobe")")
            }
        case .stackEntry(let index):
            guard kind != .eprobe else { throw refuse("eprobes have no stack to read") }
            guard index >= 0 else { throw refuse("stack entries count from 0") }
            if isKernel, index > 2048 {
                throw refuse("the kernel reads at most stack entry 2048 (THREAD_SIZE / sizeof(long))")
            }
        case .stackAddress:
            guard kind != .eprobe else { throw refuse("eprobes have no stack to read") }
        case .comm, .address, .immediate:
            break
        case .symbol(let symbol, _):
            guard !isUser else {
                throw refuse("uprobes cannot read kernel symbols; read process memory with @ADDR or a file's "
                    + "data with @+OFFSET")
            }
            guard let first = symbol.unicodeScalars.first, !("0"..."9").contains(first),
                  symbol.unicodeScalars.allSatisfy({ Self.isWordScalar($0) || $0 == "." })
            else {
                throw refuse("\(ProbeInput.display(symbol)) is not a kernel symbol name")
            }
        case .fileOffset(let offset):
            guard isUser else { throw refuse("@+OFFSET (a file offset) exists only on uprobes") }
            guard offset <= UInt64(Int64.max) else { throw refuse("the file offset is too large") }
        case .dereference(_, let base):
            guard base != .comm else { throw refuse("$comm is a string in the task, not an address: it cannot be dereferenced") }
            try checkValue(base, for: kind, atFunctionEntry: atFunctionEntry, refuse: refuse)
        case .userDereference(_, let base):
            guard !isUser else {
                throw refuse("uprobes read user memory already: use .dereference, not .userDereference (+u)")
            }
            guard base != .comm else { throw refuse("$comm is a string in the task, not an address: it cannot be dereferenced") }
            try checkValue(base, for: kind, atFunctionEntry: atFunctionEntry, refuse: refuse)
        case .field(let field):
            guard kind == .eprobe else { throw refuse("$FIELD names a field of an eprobe's target event: eprobes only") }
            if let problem = Self.nameProblem(field) { throw refuse("the field name \(problem)") }
            if field == "comm" { throw refuse("$comm is the task's command name: use .comm") }
        }
    }

    private func checkType(_ type: FetchType, refuse: (String) -> TraceFSError) throws(TraceFSError) {
        switch type {
        case .unsigned(let bits), .signed(let bits), .hex(let bits):
            guard [8, 16, 32, 64].contains(bits) else {
                throw refuse("\(bits) bits is not a width the kernel has: use 8, 16, 32 or 64")
            }
        case .string, .userString, .symbol:
            break
        case .bitfield(let width, let offset, let container):
            guard [8, 16, 32, 64].contains(container) else {
                throw refuse("a bitfield's container is 8, 16, 32 or 64 bits, not \(container)")
            }
            guard width >= 1, offset >= 0, width + offset <= container else {
                throw refuse("a bitfield of \(width) bits at bit \(offset) does not fit in \(container) bits "
                    + "(width at least 1, width + offset at most \(container))")
            }
        case .array(let element, let count):
            guard (1...FetchType.maximumArrayCount).contains(count) else {
                throw refuse("an array has 1 to \(FetchType.maximumArrayCount) elements (MAX_ARRAY_LEN), not \(count)")
            }
            if case .array = element { throw refuse("the kernel has no arrays of arrays") }
            if element.isString {
                throw refuse("the kernel writes a string array's format as '__data_loc char[][N]', which libtraceevent "
                    + "1.7 cannot parse: it loses that field and every one after it; read each pointer as an "
                    + "argument of its own (+0(...):string, +8(...):string)")
            }
            try checkType(element, refuse: refuse)
        }
    }

    /// What the value and the type must agree on.
    private func checkCombination(for kind: DynamicEvent.Kind, refuse: (String) -> TraceFSError) throws(TraceFSError) {
        guard let type else { return }
        if value == .comm, type != .string {
            throw refuse("$comm is a string: give no type or .string")
        }
        if case .array = type, !value.isMemory {
            throw refuse("arrays are read from memory: dereference the value (+0(...)) or use an @ address")
        }
        if case .array = type, case .userDereference = value {
            throw refuse("Linux 6.1 reads arrays from kernel memory only (\"String accepts only memory argument\"): "
                + "use .dereference, or one argument per element")
        }
        let element = if case .array(let element, _) = type { element } else { type }
        if type.isString, !value.isMemory, value != .comm {
            let isField = if case .field = value { true } else { false }
            guard isField, element == type else {
                throw refuse("strings are read from memory: dereference the pointer (+0(...)) "
                    + "or use an @ address, or $comm\(kind == .eprobe ? " or a $field" : "")")
            }
        }
        if element == .symbol, kind == .uprobe || kind == .uretprobe {
            throw refuse("the symbol type names kernel symbols: kernel probes and eprobes only")
        }
    }
}
