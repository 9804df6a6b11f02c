/// The Swift types fetch arguments read as, for ``FetchArgument/value(in:)``.
extension FetchType {
    /// The Swift type a value of this type reads as: `UInt8` ... `UInt64` for `u` and `x` types,
    /// `Int8` ... `Int64` for `s` types, `String` for `string` and `ustring`, `UInt64` for `symbol`
    /// (the record holds the address; the `symbol+offset` text is only the kernel's `trace` output),
    /// the container's unsigned type for a bitfield (the kernel has shifted the bits down), and
    /// an `Array` of the element's type for arrays.
    public var swiftType: Any.Type {
        if case .array(let element, _) = self { return Self.arrayType(of: element.swiftType) }
        return integerType ?? String.self
    }

    private static func arrayType<Element>(of _: Element.Type) -> Any.Type { [Element].self }

    /// The integer type a value reads as; `nil` for strings and arrays.
    var integerType: (any FixedWidthInteger.Type)? {
        switch self {
        case .unsigned(let bits), .hex(let bits), .bitfield(_, _, let bits): Self.unsignedType(bits)
        case .signed(let bits):
            switch bits {
            case 8: Int8.self
            case 16: Int16.self
            case 32: Int32.self
            case 64: Int64.self
            default: nil
            }
        case .symbol: UInt64.self
        case .string, .userString, .array: nil
        }
    }

    private static func unsignedType(_ bits: Int) -> (any FixedWidthInteger.Type)? {
        switch bits {
        case 8: UInt8.self
        case 16: UInt16.self
        case 32: UInt32.self
        case 64: UInt64.self
        default: nil
        }
    }
}
