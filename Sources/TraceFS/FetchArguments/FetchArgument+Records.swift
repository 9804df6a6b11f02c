/// Reading a fetch argument's value back from the probe's records, by the argument's own type,
/// so that a caller need not restate what the probe recorded.
extension FetchArgument {
    /// The Swift type ``value(in:)`` returns for this argument: see ``FetchType/swiftType``
    /// (`x64` when no type is given, so `UInt64`; `String` for ``FetchValue/comm``).
    public var swiftType: Any.Type { effectiveType.swiftType }

    /// This argument's value in `record`, a record of the probe it was given to, as a value of
    /// ``swiftType`` (`UInt8` for `u8`, `[Int16]` for `s16[4]`, `String` for `string`); `nil` when
    /// the record has no such field or it is not of the argument's type.
    ///
    /// ```swift
    /// let size = FetchArgument("size", .register("di"), as: .unsigned(64))
    ///
    /// func sizes(in instance: Instance, using catalog: EventCatalog) throws -> [UInt64] {
    ///     var sizes: [UInt64] = []
    ///     try instance.readRecords(using: catalog) { record in
    ///         if let value = size.value(in: record, as: UInt64.self) { sizes.append(value) }
    ///         return .continue
    ///     }
    ///     return sizes
    /// }
    /// ```
    public func value<Fields: RecordFields & ~Copyable>(in record: borrowing Fields) -> Any? {
        let type = effectiveType
        switch type {
        case .string, .userString:
            return record.string(name)
        case .array(let element, let count):
            // libtraceevent calls `u8` and `s8` arrays strings: read any fixed field's bytes.
            guard let layout = record.format.fieldTable.layout(named: name) else { return nil }
            guard let integer = element.integerType, !layout.isDynamic else { return nil }
            return record.withUnsafeBytes(of: name) { Self.integers(integer, count: count, in: $0) } ?? nil
        default:
            guard let integer = type.integerType, let bits = record.unsigned(name) else { return nil }
            return Self.truncated(integer, bits)
        }
    }

    /// This argument's value in `record` as `Value`, which must be ``swiftType``; `nil` when it is
    /// not, or when the record has no such field.
    public func value<Fields: RecordFields & ~Copyable, Value>(
        in record: borrowing Fields, as _: Value.Type = Value.self
    ) -> Value? {
        value(in: record) as? Value
    }

    private static func truncated<Integer: FixedWidthInteger>(_: Integer.Type, _ bits: UInt64) -> Integer {
        Integer(truncatingIfNeeded: bits)
    }

    /// `count` integers of type `Integer` at the start of `bytes`, or `nil` when there are fewer.
    private static func integers<Integer: FixedWidthInteger>(
        _: Integer.Type, count: Int, in bytes: UnsafeRawBufferPointer
    ) -> [Integer]? {
        let size = MemoryLayout<Integer>.size
        guard bytes.count >= count * size else { return nil }
        return (0..<count).map { bytes.loadUnaligned(fromByteOffset: $0 * size, as: Integer.self) }
    }
}
