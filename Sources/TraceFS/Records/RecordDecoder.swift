/// A `Decoder` over one record's fields, keyed by field name. It is a small struct (an
/// existential's inline storage holds it), so decoding a record allocates only what the decoded
/// value itself needs and the box of its keyed container.
@usableFromInline
struct RecordDecoder: Decoder {
    @usableFromInline let format: EventFormat
    @usableFromInline let data: UnsafeRawBufferPointer

    @inlinable
    init(format: EventFormat, data: UnsafeRawBufferPointer) {
        self.format = format
        self.data = data
    }

    @inlinable var codingPath: [any CodingKey] { [] }
    @inlinable var userInfo: [CodingUserInfoKey: Any] { [:] }

    @inlinable
    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Fields(format: format, data: data))
    }

    @inlinable
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: [], debugDescription: "a record is keyed by field name"))
    }

    @inlinable
    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw DecodingError.typeMismatch(Any.self, .init(codingPath: [], debugDescription: "a record is keyed by field name"))
    }

    /// The record's fields as a keyed container.
    @usableFromInline
    struct Fields<Key: CodingKey>: KeyedDecodingContainerProtocol {
        @usableFromInline let format: EventFormat
        @usableFromInline let data: UnsafeRawBufferPointer

        @inlinable
        init(format: EventFormat, data: UnsafeRawBufferPointer) {
            self.format = format
            self.data = data
        }

        @inlinable
        var codingPath: [any CodingKey] { [] }
        @inlinable
        var allKeys: [Key] { (format.commonFields + format.fields).compactMap { Key(stringValue: $0.name) } }

        @inlinable
        func contains(_ key: Key) -> Bool { format.field(named: key.stringValue) != nil }

        @inlinable
        func decodeNil(forKey key: Key) throws -> Bool { !contains(key) }

        @inlinable
        func field(_ key: Key) throws -> EventField {
            guard let field = format.field(named: key.stringValue) else {
                throw DecodingError.keyNotFound(key, .init(codingPath: [key], debugDescription: ""))
            }
            return field
        }

        @inlinable
        func integer<Value: FixedWidthInteger>(_ type: Value.Type, _ key: Key) throws -> Value {
            let field = try field(key)
            let converted: Value?
            switch field.kind {
            case .signedInteger: converted = FieldReader.signed(field, in: data).flatMap { Value(exactly: $0) }
            case .unsignedInteger: converted = FieldReader.unsigned(field, in: data).flatMap { Value(exactly: $0) }
            default: throw mismatch(Value.self, field, key)
            }
            guard let converted else {
                let raw = FieldReader.value(field, in: data)?.description ?? "?"
                throw DecodingError.dataCorrupted(.init(
                    codingPath: [key], debugDescription: "its value \(raw) does not fit \(Value.self)"))
            }
            return converted
        }

        @inlinable
        func mismatch(_ type: Any.Type, _ field: EventField, _ key: Key) -> DecodingError {
            .typeMismatch(type, .init(codingPath: [key], debugDescription: "it is `\(field.type)`, not \(type)"))
        }

        @inlinable
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try integer(UInt64.self, key) != 0 }
        @inlinable
        func decode(_ type: String.Type, forKey key: Key) throws -> String {
            let field = try field(key)
            guard let value = FieldReader.string(field, in: data) else { throw mismatch(String.self, field, key) }
            return value
        }
        @inlinable
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { throw mismatch(Double.self, try field(key), key) }
        @inlinable
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw mismatch(Float.self, try field(key), key) }
        @inlinable
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(Int.self, key) }
        @inlinable
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(Int8.self, key) }
        @inlinable
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(Int16.self, key) }
        @inlinable
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(Int32.self, key) }
        @inlinable
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(Int64.self, key) }
        @inlinable
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(UInt.self, key) }
        @inlinable
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(UInt8.self, key) }
        @inlinable
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(UInt16.self, key) }
        @inlinable
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(UInt32.self, key) }
        @inlinable
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(UInt64.self, key) }

        @inlinable
        func decode<Value: Decodable>(_ type: Value.Type, forKey key: Key) throws -> Value {
            let field = try field(key)
            if Value.self == [UInt8].self, let span = FieldReader.span(field, in: data) {
                return Array(span) as! Value
            }
            throw mismatch(Value.self, field, key)
        }

        @inlinable
        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            throw mismatch(NestedKey.self, try field(key), key)
        }

        @inlinable
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw mismatch([Any].self, try field(key), key)
        }

        @inlinable
        func superDecoder() throws -> any Decoder { RecordDecoder(format: format, data: data) }
        @inlinable
        func superDecoder(forKey key: Key) throws -> any Decoder { RecordDecoder(format: format, data: data) }
    }

    /// The `DecodingError` as a ``TraceFSError`` that names the field and what is wrong with it.
    @usableFromInline
    static func describe(_ error: any Error, decoding type: Any.Type, format: EventFormat) -> TraceFSError {
        let operation = "decode a \(format) record as \(type)"
        let fieldNames = (format.commonFields + format.fields).map(\.name).joined(separator: ", ")
        guard let error = error as? DecodingError else {
            return error as? TraceFSError
                ?? TraceFSError(.decodingFailed, operation: operation, reason: "\(type).init(from:) threw \(error)")
        }
        switch error {
        case .keyNotFound(let key, _):
            return TraceFSError(.decodingFailed, operation: operation,
                                reason: "the event has no field '\(key.stringValue)'; its fields are \(fieldNames)")
        case .typeMismatch(_, let context), .dataCorrupted(let context), .valueNotFound(_, let context):
            let name = context.codingPath.last?.stringValue ?? "?"
            return TraceFSError(.decodingFailed, operation: operation,
                                reason: "field '\(name)' cannot be decoded: \(context.debugDescription)")
        @unknown default:
            return TraceFSError(.decodingFailed, operation: operation, reason: "\(error)")
        }
    }
}
