/// Decodes a ``HistogramRow`` into a `Decodable` type: properties by key or value name.
struct HistogramRowDecoder: Decoder {
    let row: HistogramRow
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(RowContainer<Key>(row: row))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: [], debugDescription: "a histogram row is keyed"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw DecodingError.typeMismatch(Any.self, .init(codingPath: [], debugDescription: "a histogram row is keyed"))
    }
}

/// What one property of a row decodes from.
enum HistogramCell {
    case key(HistogramKeyValue)
    case value(UInt64)

    /// The cell as a number: a value, a numeric key, a bucket's bound (log2: upper, linear: lower),
    /// an address, a pid or a syscall number.
    var number: UInt64? {
        switch self {
        case .value(let value): value
        case .key(let key):
            switch key {
            case .log2(let exponent): HistogramKeyValue.log2Range(exponent: exponent).upperBound
            case .bucket(let lower, _): lower
            default: key.range?.lowerBound
            }
        }
    }

    /// The cell as text: a string, a symbol's, syscall's or command's name.
    var text: String? {
        switch self {
        case .value(let value): String(value)
        case .key(let key):
            switch key {
            case .string(let text): text
            case .symbol(_, let name, _), .symbolOffset(_, let name, _, _, _), .syscall(let name, _): name
            case .execname(let command, _): command
            default: key.description
            }
        }
    }
}

private struct RowContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let row: HistogramRow
    var codingPath: [any CodingKey] { [] }
    var allKeys: [Key] {
        (row.keys.map(\.field) + row.values.map(\.name)).compactMap { Key(stringValue: $0) }
    }

    func cell(_ key: Key) -> HistogramCell? {
        if let found = row.key(key.stringValue) { return .key(found) }
        return row.value(key.stringValue).map { .value($0) }
    }

    func contains(_ key: Key) -> Bool { cell(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { cell(key) == nil }

    private func required(_ key: Key) throws -> HistogramCell {
        guard let cell = cell(key) else {
            let names = (row.keys.map(\.field) + row.values.map(\.name)).joined(separator: ", ")
            throw DecodingError.keyNotFound(key, .init(codingPath: [key],
                debugDescription: "the row has no key or value '\(key.stringValue)'; it has \(names)"))
        }
        return cell
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let cell = try required(key)
        let mismatch = DecodingError.typeMismatch(T.self, .init(codingPath: [key],
            debugDescription: "'\(key.stringValue)' cannot be read as \(T.self)"))
        if T.self == String.self {
            guard let text = cell.text else { throw mismatch }
            return text as! T
        }
        if T.self == [String].self {
            guard case .key(.stackTrace(let frames)) = cell else { throw mismatch }
            return frames as! T
        }
        if T.self == HistogramKeyValue.self, case .key(let value) = cell {
            return value as! T
        }
        if let integer = T.self as? any FixedWidthInteger.Type {
            guard let number = cell.number, let converted = integer.init(exactly: number) else { throw mismatch }
            return converted as! T
        }
        if T.self == Double.self, let number = cell.number {
            return Double(number) as! T
        }
        throw mismatch
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        throw DecodingError.typeMismatch([String: Any].self, .init(codingPath: [key], debugDescription: "rows are flat"))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: [key], debugDescription: "rows are flat"))
    }

    func superDecoder() throws -> any Decoder { HistogramRowDecoder(row: row) }
    func superDecoder(forKey key: Key) throws -> any Decoder { HistogramRowDecoder(row: row) }
}
