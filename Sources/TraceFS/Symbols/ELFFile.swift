import CLibELF

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An executable or shared library opened with libelf, to read its symbol tables and program
/// headers. Owns the file descriptor and the `Elf` descriptor, both freed in `deinit`.
///
/// Nothing is cached between files or calls: opening maps the file (`ELF_C_READ_MMAP`), and a
/// lookup walks the symbol table once.
final class ELFFile {
    let path: String
    private let descriptor: Int32
    private let elf: OpaquePointer
    /// What the caller was doing, for error messages.
    private let operation: () -> String

    /// Which symbol table the lookups read.
    enum Table: String {
        case symtab = ".symtab"
        case dynsym = ".dynsym"
    }

    /// Opens `path`, which the caller has checked is an existing regular file.
    ///
    /// - Throws: ``TraceFSError``: `notFound` when the file does not exist, `permissionDenied` when
    ///   it cannot be read, `invalidArgument` when it is not an ELF executable or shared library.
    ///
    /// The corresponding C functions are `open`, `elf_version` and `elf_begin`.
    init(path: String, operation: @escaping @autoclosure () -> String) throws(TraceFSError) {
        self.path = path
        self.operation = operation
        _ = Self.libraryVersion
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let error = currentErrno()
            throw TraceFSError(
                error == ENOENT || error == ENOTDIR ? .notFound : .from(errno: error), operation: operation(),
                reason: "cannot read \(ProbeInput.display(path)): \(TraceFSError.errnoText(error).lowercased()); "
                    + "give the path of an existing, readable executable or shared library",
                function: "open", errno: error)
        }
        guard let elf = elf_begin(descriptor, ELF_C_READ_MMAP, nil) else {
            let message = Self.libraryMessage()
            close(descriptor)
            throw TraceFSError(
                .invalidArgument, operation: operation(),
                reason: "\(ProbeInput.display(path)) is not an ELF file libelf can read; give an executable or "
                    + "shared library", function: "elf_begin", kernelMessage: message)
        }
        self.descriptor = descriptor
        self.elf = elf
        // From here on deinit frees both.
        var header = GElf_Ehdr()
        guard elf_kind(elf) == ELF_K_ELF, gelf_getehdr(elf, &header) != nil else {
            throw TraceFSError(
                .invalidArgument, operation: operation(),
                reason: "\(ProbeInput.display(path)) is not an ELF file (no ELF header); uprobes go on ELF "
                    + "executables and shared libraries", function: elf_kind(elf) == ELF_K_ELF ? "gelf_getehdr" : nil)
        }
        guard header.e_type == ET_EXEC || header.e_type == ET_DYN else {
            let kind = header.e_type == ET_REL ? "a relocatable object (.o)" : header.e_type == ET_CORE ? "a core dump" : "not an executable"
            throw TraceFSError(
                .invalidArgument, operation: operation(),
                reason: "\(ProbeInput.display(path)) is \(kind); uprobes go on linked executables and shared libraries")
        }
    }

    deinit {
        elf_end(elf)
        close(descriptor)
    }

    /// libelf refuses every other call until the version is set; `static let` sets it once,
    /// thread-safely.
    private static let libraryVersion: UInt32 = elf_version(UInt32(EV_CURRENT))

    /// libelf's text for its last error on this thread, if any.
    static func libraryMessage() -> String? {
        let code = elf_errno()
        guard code != 0, let text = elf_errmsg(code) else { return nil }
        return String(cString: text)
    }

    // MARK: - Symbols

    /// The table lookups read: `.symtab` when the file has one (it lists local functions too),
    /// otherwise `.dynsym` (what a stripped file keeps: the exported symbols).
    ///
    /// - Throws: ``TraceFSError`` with `invalidArgument` when the file has neither (stripped of
    ///   every symbol, as static executables often are).
    func symbolTable() throws(TraceFSError) -> (table: Table, section: OpaquePointer) {
        var dynamic: OpaquePointer?
        var section: OpaquePointer? = nil
        while let next = elf_nextscn(elf, section) {
            section = next
            var header = GElf_Shdr()
            guard gelf_getshdr(next, &header) != nil else { continue }
            if header.sh_type == SHT_SYMTAB { return (.symtab, next) }
            if header.sh_type == SHT_DYNSYM, dynamic == nil { dynamic = next }
        }
        if let dynamic { return (.dynsym, dynamic) }
        throw TraceFSError(
            .invalidArgument, operation: operation(),
            reason: "\(ProbeInput.display(path)) is stripped: it has no symbol table (.symtab) and no dynamic "
                + "symbol table (.dynsym), so no function can be found by name; use an unstripped build, or "
                + "give the file offset of the instruction")
    }

    /// Calls `body` with every symbol of `section` (a symbol table), its index and its name as
    /// libelf returns it (the string table's bytes, without a version: `malloc`, not
    /// `malloc@@GLIBC_2.2.5`). The name pointer is valid only during the call.
    func forEachSymbol(
        in section: OpaquePointer, _ body: (_ index: Int, _ symbol: GElf_Sym, _ name: UnsafePointer<CChar>) -> Void
    ) {
        var header = GElf_Shdr()
        guard gelf_getshdr(section, &header) != nil, header.sh_entsize > 0 else { return }
        let stringSection = Int(header.sh_link)
        // A file's symbol table is one data chunk; the index is then the symbol's index, which
        // `.gnu.version` is indexed by.
        guard let data = elf_getdata(section, nil) else { return }
        let count = data.pointee.d_size / Int(header.sh_entsize)
        for index in 0..<count {
            var symbol = GElf_Sym()
            guard gelf_getsym(data, Int32(index), &symbol) != nil, symbol.st_name != 0,
                  let name = elf_strptr(elf, stringSection, Int(symbol.st_name))
            else { continue }
            body(index, symbol, name)
        }
    }

    /// The version of each symbol of `.dynsym` that has one, by symbol index, as `readelf` prints
    /// it: `@@GLIBC_2.3` for the default version (what newly linked programs call), `@GLIBC_2.2.5`
    /// for an older one. Empty for a file without symbol versions.
    func symbolVersions() -> [Int: String] {
        var versionSymbols: OpaquePointer?, definitions: OpaquePointer?, definitionStrings = 0
        var section: OpaquePointer? = nil
        while let next = elf_nextscn(elf, section) {
            section = next
            var header = GElf_Shdr()
            guard gelf_getshdr(next, &header) != nil else { continue }
            if header.sh_type == SHT_GNU_versym { versionSymbols = next }
            if header.sh_type == SHT_GNU_verdef { definitions = next; definitionStrings = Int(header.sh_link) }
        }
        guard let versionSymbols, let definitions,
              let indices = elf_getdata(versionSymbols, nil), let definitionData = elf_getdata(definitions, nil)
        else { return [:] }
        // Version index -> name, from the chain of Verdef entries and their first Verdaux.
        var names: [Int: String] = [:]
        var offset = 0
        while offset < definitionData.pointee.d_size {
            var definition = GElf_Verdef()
            guard gelf_getverdef(definitionData, Int32(offset), &definition) != nil else { break }
            var auxiliary = GElf_Verdaux()
            if gelf_getverdaux(definitionData, Int32(offset) + Int32(definition.vd_aux), &auxiliary) != nil,
               let name = elf_strptr(elf, definitionStrings, Int(auxiliary.vda_name)) {
                names[Int(definition.vd_ndx)] = String(cString: name)
            }
            guard definition.vd_next != 0 else { break }
            offset += Int(definition.vd_next)
        }
        var versions: [Int: String] = [:]
        let count = indices.pointee.d_size / MemoryLayout<GElf_Versym>.size
        for index in 0..<count {
            var value = GElf_Versym()
            guard gelf_getversym(indices, Int32(index), &value) != nil else { continue }
            // 0 is local, 1 the unversioned global; bit 15 marks a hidden (non-default) version.
            guard let name = names[Int(value & 0x7FFF)], value & 0x7FFF > 1 else { continue }
            versions[index] = (value & 0x8000 == 0 ? "@@" : "@") + name
        }
        return versions
    }

    // MARK: - Program headers

    /// The loadable segments (`PT_LOAD`), which say where each virtual address lies in the file.
    ///
    /// The corresponding C functions are `elf_getphdrnum` and `gelf_getphdr`.
    func loadSegments() throws(TraceFSError) -> [LoadSegment] {
        var count = 0
        guard elf_getphdrnum(elf, &count) == 0 else {
            throw TraceFSError(
                .invalidArgument, operation: operation(),
                reason: "cannot read the program headers of \(ProbeInput.display(path)); is it a damaged file?",
                function: "elf_getphdrnum", kernelMessage: Self.libraryMessage())
        }
        var segments: [LoadSegment] = []
        for index in 0..<count {
            var header = GElf_Phdr()
            guard gelf_getphdr(elf, Int32(index), &header) != nil, header.p_type == PT_LOAD else { continue }
            segments.append(LoadSegment(virtualAddress: header.p_vaddr, fileOffset: header.p_offset,
                                        fileSize: header.p_filesz))
        }
        return segments
    }

    // MARK: - Header, sections and notes

    /// The ELF header (`e_machine`, `e_ident`), which ``init(path:operation:)`` has checked exists.
    ///
    /// The corresponding C function is `gelf_getehdr`.
    var header: GElf_Ehdr {
        var header = GElf_Ehdr()
        _ = gelf_getehdr(elf, &header)
        return header
    }

    /// Whether addresses are 8 bytes (`ELFCLASS64`) rather than 4.
    var is64Bit: Bool { gelf_getclass(elf) == ELFCLASS64 }

    /// Whether the file's data is big-endian (`ELFDATA2MSB`); libelf translates headers, not note
    /// contents.
    var isBigEndian: Bool { header.e_ident.5 == UInt8(ELFDATA2MSB) }

    /// The first section named `name` and its header, or `nil`.
    ///
    /// The corresponding C functions are `elf_getshdrstrndx`, `elf_nextscn` and `elf_strptr`.
    func section(named name: String) -> (section: OpaquePointer, header: GElf_Shdr)? {
        var names = 0
        guard elf_getshdrstrndx(elf, &names) == 0 else { return nil }
        var section: OpaquePointer? = nil
        while let next = elf_nextscn(elf, section) {
            section = next
            var header = GElf_Shdr()
            guard gelf_getshdr(next, &header) != nil, let text = elf_strptr(elf, names, Int(header.sh_name)),
                  strcmp(text, name) == 0 else { continue }
            return (next, header)
        }
        return nil
    }

    /// Calls `body` with each note of the `SHT_NOTE` section `section`: its type, owner name and
    /// description bytes (as the file has them: libelf translates the note headers only). The
    /// buffers are valid only during the call.
    ///
    /// The corresponding C functions are `elf_getdata` and `gelf_getnote`.
    func forEachNote(
        in section: OpaquePointer,
        _ body: (_ type: UInt32, _ owner: UnsafeRawBufferPointer, _ description: UnsafeRawBufferPointer) -> Void
    ) {
        guard let data = elf_getdata(section, nil), let bytes = data.pointee.d_buf else { return }
        let size = data.pointee.d_size
        var offset = 0
        while offset < size {
            var note = GElf_Nhdr()
            var nameOffset = 0, descriptionOffset = 0
            let next = gelf_getnote(data, offset, &note, &nameOffset, &descriptionOffset)
            guard next > offset else { return }
            // The owner's size counts its terminating NUL.
            let owner = UnsafeRawBufferPointer(start: bytes + nameOffset, count: max(Int(note.n_namesz), 1) - 1)
            let description = UnsafeRawBufferPointer(start: bytes + descriptionOffset, count: Int(note.n_descsz))
            body(note.n_type, owner, description)
            offset = next
        }
    }
}

// Not Sendable: libelf's descriptor is not safe to use from two threads at once; the overlay opens,
// reads and frees it within one call.
@available(*, unavailable)
extension ELFFile: Sendable {}
