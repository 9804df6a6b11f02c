import CLibELF

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A statically defined tracepoint (USDT probe) of an executable or shared library: a place that
/// `sys/sdt.h`'s `DTRACE_PROBE` macros marked with a `nop` and described in a `.note.stapsdt`
/// ELF note, as bcc, bpftrace and `perf probe sdt_*` read them.
///
/// ```swift
/// for probe in try USDTProbe.all(in: "/usr/bin/python3.11") {
///     print(probe.provider, probe.name, probe.arguments.map(\.spec))   // python function__entry ["8@%rbp", ...]
/// }
/// ```
///
/// Each note (type 3, owner `stapsdt`) holds the probe's address (`location`), the address of the
/// `.stapsdt.base` section when the file was linked (`base`), the address of its semaphore (0 for
/// none), then the provider, the name and the arguments. A prelinked file has moved since: the
/// difference between the section's actual address and `base` is added to the location and the
/// semaphore (``address``, ``semaphoreAddress``). ``DynamicEvent/usdt(system:event:probe:argumentNames:userStrings:)``
/// puts a uprobe on it.
public struct USDTProbe: Sendable, Hashable, CustomStringConvertible {
    /// The executable or library, as an absolute path.
    public let file: String
    /// The provider (`python`, `libstdcxx`).
    public let provider: String
    /// The probe's name (`function__entry`, `throw`).
    public let name: String
    /// The probe's address as the note has it.
    public let location: UInt64
    /// The address of `.stapsdt.base` as the note has it (0 when the note does not say).
    public let base: UInt64
    /// The semaphore's address as the note has it, or 0 when the probe has none.
    public let semaphore: UInt64
    /// The arguments, in order.
    public let arguments: [USDTArgument]
    /// The probe's address in the file as it is now: ``location`` moved by the difference between
    /// `.stapsdt.base`'s address and ``base`` (zero unless the file was prelinked).
    public let address: UInt64
    /// The semaphore's address, moved as ``address`` is; `nil` when the probe has no semaphore.
    public let semaphoreAddress: UInt64?
    /// The file offset of ``address`` (through the `PT_LOAD` segment that holds it), where a uprobe
    /// goes; `nil` when no loadable segment holds it.
    public let fileOffset: UInt64?
    /// The file offset of the semaphore, the uprobe's reference counter (`ref_ctr_offset`): the
    /// kernel increments it in each process that maps the file while the probe is enabled. `nil`
    /// when there is no semaphore or no loadable segment holds it.
    public let semaphoreFileOffset: UInt64?

    /// Whether the probe has a semaphore: the program skips the probe (and the work of computing
    /// its arguments) while the semaphore is 0.
    public var hasSemaphore: Bool { semaphore != 0 }

    /// "python:function__entry at 0x4f20a1 (semaphore 0xa84260) 8@%rbp 8@%r12 -4@%eax".
    public var description: String {
        "\(provider):\(name) at 0x\(hex(address))" + (semaphoreAddress.map { " (semaphore 0x\(hex($0)))" } ?? "")
            + arguments.map { " \($0.spec)" }.joined()
    }

    /// The USDT probes of an executable or shared library, in the order of its notes; empty when
    /// it has none (no `.note.stapsdt` section).
    ///
    /// - Parameter file: The executable or library. A relative path is made absolute against the
    ///   current directory.
    /// - Throws: ``TraceFSError``: `notFound` when the file does not exist, `permissionDenied` when
    ///   it cannot be read, `invalidArgument` when it is not an ELF executable or shared library
    ///   or a note is damaged.
    ///
    /// Read with libelf (`elf_begin`, `gelf_getnote`, `gelf_getphdr`).
    public static func all(in file: String) throws(TraceFSError) -> [USDTProbe] {
        let input = ProbeInput(operation: "list the USDT probes of \(ProbeInput.display(file))")
        let (path, _) = try input.userBinary(file)
        let elf = try ELFFile(path: path, operation: input.operation())
        return try all(in: elf, operation: input.operation())
    }

    /// The probes of an open file.
    static func all(in file: ELFFile, operation: @autoclosure () -> String) throws(TraceFSError) -> [USDTProbe] {
        guard let notes = file.section(named: ".note.stapsdt") else { return [] }
        let segments = try file.loadSegments()
        let actualBase = file.section(named: ".stapsdt.base")?.header.sh_addr
        let addressSize = file.is64Bit ? 8 : 4
        let bigEndian = file.isBigEndian
        let isX86_64 = file.header.e_machine == UInt16(EM_X86_64)
        var globals = GlobalVariables(file: file)
        var probes: [USDTProbe] = []
        var damaged: String?
        file.forEachNote(in: notes.section) { type, owner, description in
            guard type == 3, owner.elementsEqual("stapsdt".utf8) else { return }
            guard let note = Note(description, addressSize: addressSize, bigEndian: bigEndian) else {
                damaged = damaged ?? "a stapsdt note of \(description.count) bytes is too short or not NUL-terminated"
                return
            }
            // Prelink moved the file when .stapsdt.base is no longer where the note says.
            let shift = actualBase.map { note.base == 0 ? 0 : $0 &- note.base } ?? 0
            let address = note.location &+ shift
            let semaphoreAddress = note.semaphore == 0 ? nil : note.semaphore &+ shift
            let fileOffset = segments.lazy.compactMap { $0.fileOffset(of: address) }.first
            let arguments = note.arguments.split(separator: " ").map { spec in
                USDTArgument(spec, isX86_64: isX86_64) { symbol, offset in
                    // The kernel's "@+X" reads the address X has in the probe's mapping: the
                    // probe's address minus its file offset, plus X.
                    globals.address(of: symbol, plus: offset).flatMap { variable in
                        guard let fileOffset else { return .failure(USDTRefusal("the probe is in no loadable segment")) }
                        return .success(variable &- address &+ fileOffset)
                    }
                }
            }
            probes.append(USDTProbe(
                file: file.path, provider: note.provider, name: note.name, location: note.location, base: note.base,
                semaphore: note.semaphore, arguments: arguments, address: address, semaphoreAddress: semaphoreAddress,
                fileOffset: fileOffset,
                semaphoreFileOffset: semaphoreAddress.flatMap { semaphore in
                    segments.lazy.compactMap { $0.fileOffset(of: semaphore) }.first
                }))
        }
        if let damaged {
            throw TraceFSError(
                .invalidArgument, operation: operation(),
                reason: "the .note.stapsdt section of \(ProbeInput.display(file.path)) is damaged: \(damaged)")
        }
        return probes
    }

    /// One note's description: three addresses, then provider, name and arguments, each ending in
    /// NUL.
    struct Note {
        let location: UInt64, base: UInt64, semaphore: UInt64
        let provider: String, name: String, arguments: String

        init?(_ bytes: UnsafeRawBufferPointer, addressSize: Int, bigEndian: Bool) {
            guard bytes.count > 3 * addressSize else { return nil }
            func address(_ index: Int) -> UInt64 {
                let field = bytes[(index * addressSize)..<((index + 1) * addressSize)]
                let ordered = bigEndian ? Array(field) : field.reversed()
                return ordered.reduce(0) { $0 << 8 | UInt64($1) }
            }
            location = address(0)
            base = address(1)
            semaphore = address(2)
            let strings = bytes[(3 * addressSize)...].split(separator: 0, omittingEmptySubsequences: false)
            // provider, name, arguments (possibly empty), then what follows the last NUL.
            guard strings.count >= 3, bytes.last == 0 else { return nil }
            provider = String(decoding: strings[0], as: UTF8.self)
            name = String(decoding: strings[1], as: UTF8.self)
            arguments = strings.count >= 4 ? String(decoding: strings[2], as: UTF8.self) : ""
        }
    }

    /// The addresses of global variables named by `symbol(%rip)` arguments, from the symbol
    /// table, read on first use.
    struct GlobalVariables {
        let file: ELFFile
        private var addresses: [String: UInt64]?

        init(file: ELFFile) {
            self.file = file
        }

        mutating func address(of symbol: String, plus offset: Int64) -> Result<UInt64, USDTRefusal> {
            if addresses == nil {
                var found: [String: UInt64] = [:]
                if let (_, section) = try? file.symbolTable() {
                    file.forEachSymbol(in: section) { _, entry, name in
                        guard ELFSymbol.isDefined(entry) else { return }
                        let text = String(cString: name)
                        found[text.firstIndex(of: "@").map { String(text[..<$0]) } ?? text] = entry.st_value
                    }
                }
                addresses = found
            }
            guard let address = addresses?[symbol] else {
                return .failure(USDTRefusal("the variable \(symbol) is not in the file's symbol table"))
            }
            return .success(address &+ UInt64(bitPattern: offset))
        }
    }
}

private func hex(_ value: UInt64) -> String { String(value, radix: 16) }
