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
            guard let layout = record.format.fieldTable.layout(named: name) else { return nil }
            if element.isString {
                return record.withUnsafeData { Self.strings(count, at: layout, in: $0) }
            }
            guard let integer = element.integerType, layout.kind == .array, !layout.isDynamic else { return nil }
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

    /// A string array's strings: `count` `__data_loc` words (length << 16 | offset into the record)
    /// from the field's start, each pointing at a NUL-terminated string.
    private static func strings(_ count: Int, at layout: FieldLayout, in data: UnsafeRawBufferPointer) -> [String]? {
        guard layout.offset >= 0, layout.offset + 4 * count <= data.count else { return nil }
        var strings: [String] = []
        for index in 0..<count {
            let location = data.loadUnaligned(fromByteOffset: layout.offset + 4 * index, as: UInt32.self)
            let start = Int(location & 0xFFFF), length = Int(location >> 16)
            guard start + length <= data.count else { return nil }
            let bytes = UnsafeRawBufferPointer(rebasing: data[start..<(start + length)])
            strings.append(String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self))
        }
        return strings
    }
}
