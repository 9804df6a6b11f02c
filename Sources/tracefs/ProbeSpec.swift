import ArgumentParser
import TraceFS

/// One probe in perf-tools' syntax (`kprobe`, `uprobe`):
/// `p|r[:[GROUP/]NAME] TARGET [FETCHARGS...]`, where TARGET is `[MODULE:]SYMBOL[+OFFSET]` for the
/// kernel, or `/PATH:FUNCTION[+OFFSET]` or `/PATH:0xOFFSET` for user space.
///
/// Like perf-tools, the name may be left out: in `p:do_sys_openat2 file=+0($arg2):ustring` the
/// word after `p:` is the target, because what follows is a fetch argument. A group is accepted
/// but the probe goes in the session's own group, so that cleanup removes exactly it.
struct ProbeSpec: Equatable {
    enum Target: Equatable {
        /// `[module:]symbol[+offset]`, as kprobe_events takes it.
        case kernel(String)
        /// A function of an ELF file, by name.
        case userSymbol(file: String, symbol: String, offset: UInt64)
        /// A file offset in an ELF file.
        case userOffset(file: String, offset: UInt64)
    }

    var isReturn: Bool
    var name: String?
    var target: Target
    var fetchArgs: String?

    init(isReturn: Bool, name: String?, target: Target, fetchArgs: String?) {
        self.isReturn = isReturn
        self.name = name
        self.target = target
        self.fetchArgs = fetchArgs
    }

    init(parsing text: String) throws(ValidationError) {
        var words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard !words.isEmpty else { throw ValidationError("empty probe; write one such as 'p:do_sys_openat2' or 'p:/bin/bash:readline'") }
        let first = words[0]
        var head: String?
        if first == "p" || first == "r" {
            isReturn = first == "r"
            words.removeFirst()
        } else if first.hasPrefix("p:") || first.hasPrefix("r:") {
            isReturn = first.hasPrefix("r:")
            head = String(first.dropFirst(2))
            words.removeFirst()
        } else {
            isReturn = false
        }
        if let head, !head.isEmpty { words.insert(head, at: 0) }
        guard let word = words.first else {
            throw ValidationError("probe '\(text)' names no function; write one such as 'p:do_sys_openat2'")
        }
        var rest = Array(words.dropFirst())
        // NAME TARGET: the second word is a target, not a fetch argument, and the first is no path.
        if let second = rest.first, !Self.isFetchArgument(second), !word.hasPrefix("/") {
            let nameWord = word.split(separator: "/").last.map(String.init) ?? word
            guard EventName.isValid(nameWord) else {
                throw ValidationError("probe '\(text)': '\(nameWord)' is not a valid event name (letters, digits, '_')")
            }
            name = nameWord
            target = try Self.target(second, in: text)
            rest.removeFirst()
        } else {
            name = nil
            target = try Self.target(word, in: text)
        }
        fetchArgs = rest.isEmpty ? nil : rest.joined(separator: " ")
        if isReturn, case .userOffset = target {
            throw ValidationError("probe '\(text)': a return probe goes on a function's entry; name the function (r:/path:function)")
        }
    }

    /// Fetch arguments are `NAME=VALUE` or start with `$`, `%`, `+`, `-`, `@` or a digit.
    private static func isFetchArgument(_ word: String) -> Bool {
        word.contains("=") || word.first.map { "$%+-@0123456789".contains($0) } == true
    }

    private static func target(_ word: String, in text: String) throws(ValidationError) -> Target {
        guard word.hasPrefix("/") else {
            guard word.allSatisfy({ $0.isLetter || $0.isNumber || "_.:+x".contains($0) }) else {
                throw ValidationError("probe '\(text)': '\(word)' is not a kernel symbol ([module:]symbol[+offset])")
            }
            return .kernel(word)
        }
        guard let colon = word.lastIndex(of: ":"), colon != word.index(before: word.endIndex) else {
            throw ValidationError("probe '\(text)': a user-space probe is /path:function or /path:0xoffset")
        }
        let file = String(word[..<colon])
        let location = String(word[word.index(after: colon)...])
        if location.hasPrefix("0x") {
            guard let offset = UInt64(location.dropFirst(2), radix: 16) else {
                throw ValidationError("probe '\(text)': '\(location)' is not a hexadecimal offset")
            }
            return .userOffset(file: file, offset: offset)
        }
        let parts = location.split(separator: "+", maxSplits: 1).map(String.init)
        var offset: UInt64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard let value = digits.hasPrefix("0x") ? UInt64(digits.dropFirst(2), radix: 16) : UInt64(digits) else {
                throw ValidationError("probe '\(text)': '+\(digits)' is not an offset")
            }
            offset = value
        }
        return .userSymbol(file: file, symbol: parts[0], offset: offset)
    }

    var isKernel: Bool {
        if case .kernel = target { return true }
        return false
    }

    /// The event name to use: the given one, or `p_`/`r_` and the function (or file and offset).
    var defaultName: String {
        if let name { return name }
        let base: String = switch target {
        case .kernel(let symbol): symbol
        case .userSymbol(_, let symbol, let offset): offset == 0 ? symbol : "\(symbol)_\(offset)"
        case .userOffset(let file, let offset): "\(file.split(separator: "/").last ?? "file")_0x\(String(offset, radix: 16))"
        }
        return (isReturn ? "r_" : "p_") + EventName.sanitized(base)
    }

    /// Creates the probe in `session` as `event`.
    func create(in session: TraceSession, as event: String) throws(TraceFSError) {
        switch (target, isReturn) {
        case (.kernel(let address), false): try session.kprobe(event, address: address, format: fetchArgs)
        case (.kernel(let address), true): try session.kretprobe(event, address: address, format: fetchArgs)
        case (.userSymbol(let file, let symbol, let offset), false):
            try session.uprobe(event, file: file, symbol: symbol, offset: offset, fetchArgs: fetchArgs)
        case (.userSymbol(let file, let symbol, _), true):
            try session.uretprobe(event, file: file, symbol: symbol, fetchArgs: fetchArgs)
        case (.userOffset(let file, let offset), false):
            try session.uprobe(event, file: file, offset: offset, fetchArgs: fetchArgs)
        case (.userOffset(let file, let offset), true):
            try session.uretprobe(event, file: file, offset: offset, fetchArgs: fetchArgs)
        }
    }
}
