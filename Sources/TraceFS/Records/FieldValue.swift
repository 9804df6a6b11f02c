/// A field's value, read by its kind.
public enum FieldValue: Sendable, Hashable, CustomStringConvertible {
    case signed(Int64)
    case unsigned(UInt64)
    case string(String)
    case bytes([UInt8])

    public var description: String {
        switch self {
        case .signed(let value): String(value)
        case .unsigned(let value): String(value)
        case .string(let value): value
        case .bytes(let value): value.map { String($0, radix: 16) }.joined(separator: " ")
        }
    }
}
