import CLibELF

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where a uprobe on `function+offset` goes: the file offset of that instruction in an
/// executable or shared library, found through its symbol table and program headers.
///
/// The symbol is looked up by exact name in `.symtab`, or in `.dynsym` when the file has no
/// `.symtab` (it was stripped). Only defined functions count (`STT_FUNC`, `STT_GNU_IFUNC`); names
/// that share one address (aliases such as `__libc_malloc` and `malloc`) are one function. The
/// symbol's virtual address is moved into the file through the `PT_LOAD` segment that holds it
/// (`address - p_vaddr + p_offset`), which is right for PIE and non-PIE executables and for shared
/// libraries alike.
struct SymbolResolution {
    /// The function found (its name without a version, address and size).
    let symbol: ELFSymbol
    /// The table it was found in.
    let table: ELFFile.Table
    /// The file offset of `symbol`'s address plus the requested offset into it.
    let fileOffset: UInt64

    /// Finds `name` in the ELF file at `path` (an absolute path the caller has checked) and returns
    /// the file offset of the instruction `offset` bytes into it.
    ///
    /// `name` is the symbol table's name (`malloc`), or that name with the version `readelf`
    /// prints (`realpath@@GLIBC_2.3`, `realpath@GLIBC_2.2.5`) to pick one of several versions.
    ///
    /// - Throws: ``TraceFSError``: `notFound` when the file or the function does not exist (naming
    ///   up to five similar function names); `invalidArgument` when the file is not an ELF
    ///   executable or library, is stripped of all symbols, when the symbol is not a function, when
    ///   the name has several addresses (each listed with its file offset), or when `offset` is not
    ///   inside the function.
    static func resolve(
        _ name: String, offset: UInt64, in path: String, operation: @escaping @autoclosure () -> String
    ) throws(TraceFSError) -> SymbolResolution {
        let file = try ELFFile(path: path, operation: operation())
        let (table, section) = try file.symbolTable()
        let query = Query(name)

        var matches: [(index: Int, symbol: GElf_Sym, suffix: String)] = []
        var imported = false
        query.base.withCString { base in
            let length = strlen(base)
            file.forEachSymbol(in: section) { index, symbol, symbolName in
                guard strncmp(symbolName, base, length) == 0 else { return }
                let next = symbolName[length]
                guard next == 0 || next == CChar(UInt8(ascii: "@")) else { return }
                guard ELFSymbol.isDefined(symbol) else { imported = true; return }
                // binutils 2.35 and later write versioned names into .symtab: "realpath@@GLIBC_2.3".
                matches.append((index, symbol, next == 0 ? "" : String(cString: symbolName + length)))
            }
        }
        // .dynsym keeps versions apart, in .gnu.version; read them only when a name matched.
        let versions = matches.isEmpty || table != .dynsym ? [:] : file.symbolVersions()
        let symbols = matches.map { match in
            ELFSymbol(name: query.base, symbol: match.symbol,
                      version: match.suffix.isEmpty ? versions[match.index] ?? "" : match.suffix)
        }.filter { query.version == nil || query.matches($0.version) }

        let describe = { "\(ProbeInput.display(name)) in \(ProbeInput.display(path))" }
        guard !symbols.isEmpty else {
            throw notFound(query, name: name, imported: imported, anyVersion: !matches.isEmpty, file: file,
                           section: section, table: table, operation: operation())
        }
        let functions = symbols.filter(\.kind.isFunction)
        guard let first = functions.first else {
            throw TraceFSError(
                .invalidArgument, operation: operation(),
                reason: "\(describe()) is \(symbols[0].kind); uprobes go on functions' instructions")
        }
        let segments = try file.loadSegments()
        let addresses = Set(functions.map(\.address))
        guard addresses.count == 1 else {
            let listed = functions.sorted { ($0.address, $0.version) < ($1.address, $1.version) }.map { symbol in
                "\(symbol.name)\(symbol.version) at address 0x\(hex(symbol.address))"
                    + (segments.lazy.compactMap { $0.fileOffset(of: symbol.address) }.first.map { ", file offset 0x\(hex($0))" } ?? "")
            }
            throw TraceFSError(
                .invalidArgument, operation: operation(),
                reason: "\(describe()) names \(addresses.count) different functions (\(listed.joined(separator: "; "))); "
                    + (functions.contains { !$0.version.isEmpty } ? "name one with its version, as listed, or " : "")
                    + "give the file offset of the one to probe")
        }
        // Aliases at one address: the longest size is the most the table says about the function.
        let function = functions.max { $0.size < $1.size } ?? first
        if function.size == 0 ? offset > 0 : offset >= function.size {
            throw TraceFSError(
                .invalidArgument, operation: operation(),
                reason: function.size == 0
                    ? "the symbol table does not give the size of \(describe()), so only offset 0 (its entry) can be "
                        + "checked; give the file offset of the instruction instead"
                    : "offset 0x\(hex(offset)) is past the end of \(describe()), which is \(function.size) bytes "
                        + "long; give an offset of an instruction inside it (objdump -d shows them)")
        }
        let address = function.address + offset
        guard let fileOffset = segments.lazy.compactMap({ $0.fileOffset(of: address) }).first else {
            throw TraceFSError(
                .invalidArgument, operation: operation(),
                reason: "address 0x\(hex(address)) of \(describe()) lies in none of the file's loadable segments "
                    + "(PT_LOAD); the symbol table does not match the file's code")
        }
        return SymbolResolution(symbol: function, table: table, fileOffset: fileOffset)
    }

    /// The `notFound` error for a name that no defined symbol (of the requested version) has.
    private static func notFound(
        _ query: Query, name: String, imported: Bool, anyVersion: Bool, file: ELFFile, section: OpaquePointer,
        table: ELFFile.Table, operation: @autoclosure () -> String
    ) -> TraceFSError {
        let subject = "\(ProbeInput.display(name)) in \(ProbeInput.display(file.path))"
        if anyVersion {
            return TraceFSError(
                .notFound, operation: operation(),
                reason: "\(subject): the file defines \(ProbeInput.display(query.base)) but not in that version; "
                    + "give the name without a version, or a version readelf -Ws lists")
        }
        if imported {
            return TraceFSError(
                .notFound, operation: operation(),
                reason: "\(subject): the file does not define the function, it imports it from a shared library; "
                    + "probe the library that defines it (ldd lists them)")
        }
        var names: [String] = []
        file.forEachSymbol(in: section) { _, symbol, symbolName in
            guard ELFSymbol.isDefined(symbol), ELFSymbol.Kind(type: symbol.st_info & 0xF).isFunction else { return }
            let text = String(cString: symbolName)
            names.append(text.firstIndex(of: "@").map { String(text[..<$0]) } ?? text)
        }
        let nearest = NearestNames.nearest(to: query.base, in: names)
        let where_ = table == .dynsym ? "exported functions (.dynsym; the file has no .symtab)" : "functions (.symtab)"
        return TraceFSError(
            .notFound, operation: operation(),
            reason: "\(subject): no such function among its \(names.count) \(where_); "
                + (nearest.isEmpty ? "no similar names; " : "similar names: \(nearest.joined(separator: ", ")); ")
                + "names are exact and case-sensitive (nm -D or readelf -Ws lists them)")
    }

    /// A requested name, split as `base@version` or `base@@version`.
    struct Query {
        let base: String
        /// "@@GLIBC_2.3", "@GLIBC_2.2.5", or nil for any.
        let version: String?

        init(_ name: String) {
            guard let at = name.firstIndex(of: "@") else { base = name; version = nil; return }
            base = String(name[..<at])
            version = String(name[at...])
        }

        /// `@V` asks for version V, default or not; `@@V` for V as the default.
        func matches(_ symbolVersion: String) -> Bool {
            guard let version else { return true }
            if version.hasPrefix("@@") { return symbolVersion == version }
            return symbolVersion == version || symbolVersion == "@" + version
        }
    }
}

private func hex(_ value: UInt64) -> String { String(value, radix: 16) }
