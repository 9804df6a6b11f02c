#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A function an executable or shared library defines, with the file offset a uprobe on its entry
/// takes.
public struct UserFunction: Sendable, Hashable {
    /// The function's name, without a symbol version; of several names at one address (aliases such
    /// as `__libc_malloc` and `malloc`) the shortest, then the first in alphabetical order.
    public let name: String
    /// The file offset of its first instruction.
    public let fileOffset: UInt64
}

extension DynamicEvent {
    /// The functions of an executable or shared library whose names match a shell glob
    /// (`mal*`, `*_open?`, `[a-c]*`, as `fnmatch(3)` reads it): what bcc's `funccount lib:pattern`
    /// and bpftrace's `uprobe:FILE:PATTERN` expand.
    ///
    /// The names come from the file's `.symtab`, or its `.dynsym` when it has none, as for
    /// ``uprobe(system:event:file:symbol:offset:fetchArgs:)``: defined functions only (`STT_FUNC`,
    /// `STT_GNU_IFUNC`), one per address, sorted by name. Nothing is written to the kernel.
    ///
    /// - Parameters:
    ///   - file: The executable or library, an absolute path.
    ///   - pattern: The glob, matched against names without their versions.
    /// - Returns: The matching functions; empty when none matches.
    /// - Throws: ``TraceFSError``: `notFound` when the file does not exist; `invalidArgument` when it
    ///   is not an ELF executable or library, or is stripped of all symbols.
    ///
    /// The symbols are read with libelf (`elf_begin`, `gelf_getsym`, `gelf_getphdr`).
    public static func userFunctions(in file: String, matching pattern: String) throws(TraceFSError) -> [UserFunction] {
        let input = ProbeInput(operation: "list the functions of \(ProbeInput.display(file)) matching \(ProbeInput.display(pattern))")
        let (path, _) = try input.userBinary(file)
        let elf = try ELFFile(path: path, operation: input.operation())
        let (_, section) = try elf.symbolTable()
        var names: [UInt64: String] = [:]
        pattern.withCString { glob in
            elf.forEachSymbol(in: section) { _, symbol, rawName in
                guard ELFSymbol.isDefined(symbol), ELFSymbol.Kind(type: symbol.st_info & 0xF).isFunction,
                      symbol.st_value != 0 else { return }
                // binutils 2.35 and later write versioned names into .symtab: "realpath@@GLIBC_2.3".
                var name = String(cString: rawName)
                if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
                guard !name.isEmpty, fnmatch(glob, name, 0) == 0 else { return }
                if let known = names[symbol.st_value], (known.count, known) <= (name.count, name) { return }
                names[symbol.st_value] = name
            }
        }
        let segments = try elf.loadSegments()
        return names.compactMap { address, name in
            segments.lazy.compactMap { $0.fileOffset(of: address) }.first.map { UserFunction(name: name, fileOffset: $0) }
        }.sorted { ($0.name, $0.fileOffset) < ($1.name, $1.fileOffset) }
    }
}
