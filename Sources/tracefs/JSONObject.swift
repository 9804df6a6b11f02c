/// One JSON object written field by field, in order.
///
/// Hand-written rather than Foundation's `JSONSerialization`: the fields keep the order they are
/// added in (the record's own order), a `UInt64` stays an exact integer instead of passing through
/// `NSNumber`, and the tool needs no Foundation. Escaping follows RFC 8259 section 7: `"` and `\`
/// are escaped, control characters below U+0020 become `\n`, `\t`... or `\u00XX`; everything else
/// is written as UTF-8.
struct JSONObject {
    private var members: [String] = []

    mutating func add(_ key: String, string value: String) { members.append(Self.quoted(key) + ":" + Self.quoted(value)) }
    mutating func add(_ key: String, number value: Int64) { members.append(Self.quoted(key) + ":" + String(value)) }
    mutating func add(_ key: String, number value: UInt64) { members.append(Self.quoted(key) + ":" + String(value)) }
    mutating func add(_ key: String, number value: Int) { members.append(Self.quoted(key) + ":" + String(value)) }
    /// `value` must be JSON text already (a number with a fraction, an array, an object).
    mutating func add(_ key: String, json value: String) { members.append(Self.quoted(key) + ":" + value) }

    var text: String { "{" + members.joined(separator: ",") + "}" }

    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
