extension EventFilter {
    /// Reads a filter written in the kernel's syntax, as `events/*/*/filter` and tools such as
    /// `trace-cmd -f` take it: comparisons (`==`, `!=`, `<`, `<=`, `>`, `>=`, `&`, `~`) of a field
    /// with a number or a string, joined with `&&` and `||`, negated with `!`, grouped with
    /// parentheses. `&&` binds tighter than `||`, as in C.
    ///
    /// ```swift
    /// let filter = try EventFilter(parsing: #"common_pid == 42 && (file ~ "/etc/*" || !(ret < 0))"#)
    /// print(filter)   // common_pid == 42&&(file~"/etc/*"||!(ret < 0))
    /// ```
    ///
    /// Numbers are decimal, `0x` hexadecimal or `0` octal, with an optional `-`; strings are in
    /// double or single quotes, or a bare word (`comm == bash`), as the kernel accepts them. Fields
    /// are not checked here: ``Instance/setFilter(_:system:event:catalog:)`` checks them against
    /// the event's format.
    ///
    /// - Parameter text: The filter.
    /// - Throws: ``TraceFSError`` with `invalidArgument`, naming the column where the text stops
    ///   making sense and what was expected there.
    public init(parsing text: String) throws(TraceFSError) {
        var parser = FilterParser(text: text)
        self = try parser.parseAll()
    }
}

/// A recursive-descent reader of the kernel's filter syntax over the text's bytes (the syntax is
/// ASCII; string operands keep whatever bytes they hold).
private struct FilterParser {
    let text: String
    let bytes: [UInt8]
    var position = 0

    init(text: String) {
        self.text = text
        bytes = Array(text.utf8)
    }

    mutating func parseAll() throws(TraceFSError) -> EventFilter {
        skipSpaces()
        guard position < bytes.count else { throw failure("the filter is empty; write a comparison such as common_pid == 1") }
        let filter = try parseOr()
        skipSpaces()
        guard position == bytes.count else { throw failure("expected '&&', '||' or the end of the filter") }
        return filter
    }

    private mutating func parseOr() throws(TraceFSError) -> EventFilter {
        var left = try parseAnd()
        while take("||") { left = .or(left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(TraceFSError) -> EventFilter {
        var left = try parseUnary()
        while take("&&") { left = .and(left, try parseUnary()) }
        return left
    }

    private mutating func parseUnary() throws(TraceFSError) -> EventFilter {
        skipSpaces()
        // "!=" never starts an operand, so a "!" here is a negation.
        if take("!") { return .not(try parseUnary()) }
        if take("(") {
            let inner = try parseOr()
            guard take(")") else { throw failure("expected ')' to close the '(' before") }
            return inner
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws(TraceFSError) -> EventFilter {
        skipSpaces()
        let start = position
        while position < bytes.count, Self.isFieldByte(bytes[position]) { position += 1 }
        guard position > start, !Self.isDigit(bytes[start]) else {
            position = start
            throw failure("expected a field name (such as common_pid), '(' or '!'")
        }
        let field = String(decoding: bytes[start..<position], as: UTF8.self)
        skipSpaces()
        let comparisons: [(String, EventFilter.Comparison)] = [
            ("==", .equal), ("!=", .notEqual), ("<=", .lessOrEqual), (">=", .greaterOrEqual),
            ("<", .less), (">", .greater), ("&", .bitsSet), ("~", .matches),
        ]
        // "&&" after a field is a missing operator, not a bit test.
        guard !peek("&&"), let comparison = comparisons.first(where: { take($0.0) })?.1 else {
            throw failure("expected a comparison (==, !=, <, <=, >, >=, & or ~) after '\(field)'")
        }
        return .compare(field: field, comparison, try parseValue(after: field))
    }

    private mutating func parseValue(after field: String) throws(TraceFSError) -> EventFilter.Value {
        skipSpaces()
        guard position < bytes.count else { throw failure("expected a number or a string to compare '\(field)' with") }
        let quote = bytes[position]
        if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
            let start = position
            position += 1
            let contentStart = position
            while position < bytes.count, bytes[position] != quote { position += 1 }
            guard position < bytes.count else {
                position = start
                throw failure("this string has no closing \(quote == UInt8(ascii: "\"") ? "\"" : "'")")
            }
            let content = String(decoding: bytes[contentStart..<position], as: UTF8.self)
            position += 1
            return .string(content)
        }
        let start = position
        while position < bytes.count, Self.isWordByte(bytes[position]) { position += 1 }
        guard position > start else { throw failure("expected a number or a string to compare '\(field)' with") }
        let word = String(decoding: bytes[start..<position], as: UTF8.self)
        let first = bytes[start]
        let looksNumeric = Self.isDigit(first)
            || (first == UInt8(ascii: "-") && start + 1 < position && Self.isDigit(bytes[start + 1]))
        guard looksNumeric else { return .string(word) }
        guard let number = Self.number(word) else {
            position = start
            throw failure("'\(word)' is not a number (decimal, 0x hexadecimal or 0 octal)")
        }
        return number
    }

    private static func number(_ word: String) -> EventFilter.Value? {
        let negative = word.hasPrefix("-")
        var digits = Substring(negative ? String(word.dropFirst()) : word)
        var radix = 10
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.count > 1 && digits.hasPrefix("0") {
            radix = 8
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, let magnitude = UInt64(digits, radix: radix) else { return nil }
        if negative {
            if magnitude == UInt64(Int64.max) + 1 { return .number(Int64.min) }
            return magnitude <= UInt64(Int64.max) ? .number(-Int64(magnitude)) : nil
        }
        return magnitude <= UInt64(Int64.max) ? .number(Int64(magnitude)) : .unsignedNumber(magnitude)
    }

    private mutating func skipSpaces() {
        while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x09 || bytes[position] == 0x0A {
            position += 1
        }
    }

    private func peek(_ token: String) -> Bool {
        let token = Array(token.utf8)
        return position + token.count <= bytes.count && Array(bytes[position..<position + token.count]) == token
    }

    private mutating func take(_ token: String) -> Bool {
        skipSpaces()
        guard peek(token) else { return false }
        position += token.utf8.count
        return true
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    private static func isFieldByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }

    /// A bare operand runs to a space, a parenthesis or an operator's first byte.
    private static func isWordByte(_ byte: UInt8) -> Bool {
        !" \t\n()&|!=<>~\"'".utf8.contains(byte)
    }

    private func failure(_ expected: String) -> TraceFSError {
        TraceFSError(.invalidArgument, operation: "parse the filter '\(text)'",
                     reason: "at column \(position + 1): \(expected)")
    }
}
