/// How the kernel stores and shows a fetch argument: the `:TYPE` suffix of a probe's argument.
///
/// ```swift
/// let types: [FetchType] = [.unsigned(64), .signed(32), .hex(16), .string, .userString,
///                           .bitfield(width: 3, offset: 2, container: 32), .array(.unsigned(8), count: 4)]
/// print(types.map(\.description))   // ["u64", "s32", "x16", "string", "ustring", "b3@2/32", "u8[4]"]
/// ```
///
/// The kernel's `Documentation/trace/kprobetrace.rst` ("Types") describes them; these are the ones
/// Linux 6.1 accepts (`char`, `symstr` and BTF types are newer). A type is checked with the
/// argument it belongs to, when a probe is described: see ``FetchArgument``.
///
/// `Sendable`: a value type of integers and nested values only.
public indirect enum FetchType: Sendable, Hashable, CustomStringConvertible {
    /// `u8`, `u16`, `u32`, `u64`: an unsigned integer of 8, 16, 32 or 64 bits, shown in decimal.
    case unsigned(Int)
    /// `s8` ... `s64`: a signed integer, shown in decimal.
    case signed(Int)
    /// `x8` ... `x64`: an unsigned integer shown in hexadecimal (the format file lists it as `uN`).
    case hex(Int)
    /// `string`: a NUL-terminated string read from kernel memory (from user memory on uprobes),
    /// stored as `__data_loc char[]`.
    case string
    /// `ustring`: a NUL-terminated string read from user memory.
    case userString
    /// `symbol`: an address shown as `symbol+offset` (a `u64` in the record); kernel probes only.
    case symbol
    /// `b<width>@<offset>/<container>`: `width` bits starting `offset` bits into a `container`-bit
    /// unsigned integer (8, 16, 32 or 64), stored as that unsigned integer.
    case bitfield(width: Int, offset: Int, container: Int)
    /// `TYPE[N]`: `count` (1 to 64) consecutive values read from memory. Arrays of `string` and
    /// `ustring`, which the kernel accepts, are refused: libtraceevent 1.7 cannot parse their
    /// format line (`__data_loc char[][N]`) and loses every field after it.
    case array(FetchType, count: Int)

    /// The kernel's most elements of an array type (MAX_ARRAY_LEN).
    public static let maximumArrayCount = 64

    /// The kernel's text: `u64`, `b3@2/32`, `x8[4]`.
    public var description: String {
        switch self {
        case .unsigned(let bits): "u\(bits)"
        case .signed(let bits): "s\(bits)"
        case .hex(let bits): "x\(bits)"
        case .string: "string"
        case .userString: "ustring"
        case .symbol: "symbol"
        case .bitfield(let width, let offset, let container): "b\(width)@\(offset)/\(container)"
        case .array(let element, let count): "\(element)[\(count)]"
        }
    }

    /// Whether the type is `string` or `ustring` (or an array of them).
    var isString: Bool {
        switch self {
        case .string, .userString: true
        case .array(let element, _): element.isString
        default: false
        }
    }

    /// The type the kernel's `format` file lists for a field of this type (`u64`, `s32`,
    /// `__data_loc char[]`), without an array's count.
    var formatTypeName: String {
        switch self {
        case .unsigned(let bits), .hex(let bits): "u\(bits)"
        case .signed(let bits): "s\(bits)"
        case .string, .userString: "__data_loc char[]"
        case .symbol: "u64"
        case .bitfield(_, _, let container): "u\(container)"
        case .array(let element, _): element.formatTypeName
        }
    }

    /// Bytes one value takes in a record (4 for a string's `__data_loc` word).
    var size: Int {
        switch self {
        case .unsigned(let bits), .signed(let bits), .hex(let bits): bits / 8
        case .string, .userString: 4
        case .symbol: 8
        case .bitfield(_, _, let container): container / 8
        case .array(let element, let count): element.size * count
        }
    }
}
