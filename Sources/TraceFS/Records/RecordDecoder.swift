/// A `Decoder` over one record's fields, keyed by field name. It is a small struct of plain values
/// (an existential's inline storage holds it), so decoding a record allocates only what the decoded
/// value itself needs and the box of its keyed container.
@usableFromInline
struct RecordDecoder: Decoder {
    @usableFromInline let fields: DecodableFields

    @inlinable
    init(format: EventFormat, data: UnsafeRawBufferPointer) {
        fields = DecodableFields(format: format, data: data)
    }

    @inlinable
    init(fields: DecodableFields) {
        self.fields = fields
    }

    @inlinable var codingPath: [any CodingKey] { [] }
    @inlinable var userInfo: [CodingUserInfoKey: Any] { [:] }

    @inlinable
    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Fields(fields))
    }

    @inlinable
    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: [], debugDescription: "a record is keyed by field name"))
    }

    @inlinable
    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw DecodingError.typeMismatch(Any.self, .init(codingPath: [], debugDescription: "a record is keyed by field name"))
    }

    /// The record's fields as a keyed container: each call names its field and forwards to
    /// ``DecodableFields``.
    @usableFromInline
    struct Fields<Key: CodingKey>: KeyedDecodingContainerProtocol {
        @usableFromInline let fields: DecodableFields

        @inlinable
        init(_ fields: DecodableFields) {
            self.fields = fields
        }

        @inlinable
        var codingPath: [any CodingKey] { [] }
        @inlinable
        var allKeys: [Key] {
            let format = fields.format.takeUnretainedValue()
            return (format.commonFields + format.fields).compactMap { Key(stringValue: $0.name) }
        }

        @inlinable
        func contains(_ key: Key) -> Bool { fields.contains(key.stringValue) }

        @inlinable
        func decodeNil(forKey key: Key) throws -> Bool { !contains(key) }

        /// `body`'s value for the field named by `key`, or the `DecodingError` that names `key`.
        /// Always inlined, so that each `decode` reads its own value type directly.
        @inlinable @inline(__always)
        func read<Value>(
            _ key: Key, _ body: (DecodableFields, String) throws(FieldDecodingFailure) -> Value
        ) throws -> Value {
            do {
                return try body(fields, key.stringValue)
            } catch {
                throw error.decodingError(for: key)
            }
        }

        /// An integer field that must fit `Value`; inlined into each `decode` below.
        @inlinable @inline(__always)
        func integer<Value: FixedWidthInteger>(_ key: Key) throws -> Value {
            try read(key) { fields, name throws(FieldDecodingFailure) in try fields.integer(Value.self, name) }
        }

        /// A field that exists but never decodes as `type` (or `keyNotFound` when it does not exist).
        @inlinable
        func refuse<Value>(_ key: Key, as type: Any.Type) throws -> Value {
            try read(key) { fields, name throws(FieldDecodingFailure) in throw fields.mismatch(name, type) }
        }

        @inlinable
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try integer(key) as UInt64 != 0 }
        @inlinable
        func decode(_ type: String.Type, forKey key: Key) throws -> String {
            try read(key) { fields, name throws(FieldDecodingFailure) in try fields.string(name) }
        }
        @inlinable
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try refuse(key, as: type) }
        @inlinable
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try refuse(key, as: type) }
        @inlinable
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(key) }
        @inlinable
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(key) }
        @inlinable
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(key) }
        @inlinable
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(key) }
        @inlinable
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(key) }
        @inlinable
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(key) }
        @inlinable
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(key) }
        @inlinable
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(key) }
        @inlinable
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(key) }
        @inlinable
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(key) }

        /// `[UInt8]` reads any field's bytes; other `Decodable` types are refused.
        @inlinable
        func decode<Value: Decodable>(_ type: Value.Type, forKey key: Key) throws -> Value {
            guard Value.self == [UInt8].self else { return try refuse(key, as: type) }
            return try read(key) { fields, name throws(FieldDecodingFailure) in try fields.bytes(name) as! Value }
        }

        @inlinable
        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            try refuse(key, as: type)
        }

        @inlinable
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try refuse(key, as: [Any].self)
        }

        @inlinable
        func superDecoder() throws -> any Decoder { RecordDecoder(fields: fields) }
        @inlinable
        func superDecoder(forKey key: Key) throws -> any Decoder { RecordDecoder(fields: fields) }
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
