/// A record's fields as ``RecordDecoder`` reads them, by name.
///
/// Not generic, unlike the keyed container that `Decodable` requires: the container is reached
/// through an existential `Decoder` and so runs unspecialized, but each read it forwards here is
/// specialized for its value type. Three plain words, so the container's copies are trivial and a
/// `RecordDecoder` fits an existential's inline storage (a fourth word would cost an allocation per
/// record); the format it points at is kept alive by the record being decoded.
@usableFromInline
struct DecodableFields {
    @usableFromInline let format: Unmanaged<EventFormat>
    @usableFromInline let data: UnsafeRawBufferPointer

    @inlinable
    init(format: EventFormat, data: UnsafeRawBufferPointer) {
        self.format = .passUnretained(format)
        self.data = data
    }

    @inlinable
    var table: FieldTable { format._withUnsafeGuaranteedRef { $0.fieldTable } }

    @inlinable
    func contains(_ name: String) -> Bool { table.layout(named: name) != nil }

    @inlinable
    func layout(_ name: String) throws(FieldDecodingFailure) -> FieldLayout {
        guard let layout = table.layout(named: name) else { throw .missing }
        return layout
    }

    /// An integer field that must fit `Value`.
    @inlinable
    func integer<Value: FixedWidthInteger>(_ type: Value.Type, _ name: String) throws(FieldDecodingFailure) -> Value {
        let layout = try layout(name)
        guard layout.isInteger, let bits = FieldReader.integer(layout, in: data) else { throw mismatch(name, Value.self) }
        let isSigned = layout.kind == .signedInteger
        guard let value = isSigned ? Value(exactly: Int64(bitPattern: bits)) : Value(exactly: bits) else {
            throw .doesNotFit(value: isSigned ? String(Int64(bitPattern: bits)) : String(bits), type: Value.self)
        }
        return value
    }

    @inlinable
    func string(_ name: String) throws(FieldDecodingFailure) -> String {
        guard let value = FieldReader.string(try layout(name), in: data) else { throw mismatch(name, String.self) }
        return value
    }

    @inlinable
    func bytes(_ name: String) throws(FieldDecodingFailure) -> [UInt8] {
        guard let span = FieldReader.span(try layout(name), in: data) else { throw mismatch(name, [UInt8].self) }
        return Array(span)
    }

    /// The failure for a field that exists but cannot be read as `type`; `missing` if it does not exist.
    @usableFromInline
    func mismatch(_ name: String, _ type: Any.Type) -> FieldDecodingFailure {
        guard let field = format.takeUnretainedValue().field(named: name) else { return .missing }
        return .typeMismatch(fieldType: field.type, type: type)
    }
}
