import CLibELF

/// A defined symbol of an ELF file's symbol table, as the resolution needs it.
struct ELFSymbol: Equatable {
    /// What the symbol names (`STT_*`).
    enum Kind: Equatable, CustomStringConvertible {
        /// `STT_FUNC`.
        case function
        /// `STT_GNU_IFUNC`: the address is the resolver that picks an implementation at load time.
        case indirectFunction
        /// `STT_OBJECT`, `STT_TLS`, `STT_COMMON`: data.
        case object
        /// Any other type (`STT_NOTYPE`, `STT_SECTION`, `STT_FILE`, ...), with its number.
        case other(UInt8)

        init(type: UInt8) {
            switch Int32(type) {
            case STT_FUNC: self = .function
            case STT_GNU_IFUNC: self = .indirectFunction
            case STT_OBJECT, STT_TLS, STT_COMMON: self = .object
            default: self = .other(type)
            }
        }

        var isFunction: Bool { self == .function || self == .indirectFunction }

        var description: String {
            switch self {
            case .function: "a function (FUNC)"
            case .indirectFunction: "an indirect function (IFUNC)"
            case .object: "a data object (OBJECT), not a function"
            case .other(let type): type == STT_NOTYPE ? "a symbol without a type (NOTYPE), not a function"
                : "a symbol of type \(type), not a function"
            }
        }
    }

    /// The name in the string table, without a version.
    let name: String
    /// `st_value`: the virtual address.
    let address: UInt64
    /// `st_size`: the function's length in bytes; 0 when the symbol table does not say (hand-written
    /// assembly without `.size`).
    let size: UInt64
    let kind: Kind
    /// The symbol version (`GLIBC_2.2.5`) with `@@` for the default and `@` for an older one, or
    /// empty.
    let version: String

    init(name: String, symbol: GElf_Sym, version: String) {
        self.name = name
        address = symbol.st_value
        size = symbol.st_size
        kind = Kind(type: symbol.st_info & 0xF)
        self.version = version
    }

    /// Whether the file defines it (rather than importing it from another file: `SHN_UNDEF`).
    static func isDefined(_ symbol: GElf_Sym) -> Bool {
        symbol.st_shndx != UInt16(SHN_UNDEF)
    }
}
