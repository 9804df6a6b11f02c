#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The kernel's symbol names as `/proc/kallsyms` lists them, read in one pass: for each name,
/// how many functions have it and whether it names data.
///
/// Lines are `ADDRESS TYPE NAME` for the kernel itself and `ADDRESS TYPE NAME\t[MODULE]` for
/// loaded modules. Only `t`/`T` (functions) and `w`/`W` (weak functions) are code a kprobe can go
/// on; every other type (`d`, `D`, `b`, `B`, `r`, `R`, `v`, `V`, `a`, `A`, ...) is data or an
/// absolute value. Symbols of the pseudo modules `[bpf]` and `[__builtin__*]` (BPF programs, ftrace
/// and kprobe trampolines) are left out: they come and go and are no functions to probe. When this
/// user may not see addresses (`kptr_restrict`) kallsyms shows them as 0 but still lists every
/// name, which is all the index needs.
///
/// About 120,000 names on 6.18 and 96,000 on Debian's 6.1 take 8 to 10 MB in this form (see
/// the measurements in `KernelSymbolIndexTests`).
struct KernelSymbolIndex: Sendable {
    /// What kallsyms says about one name: in the kernel and all its modules together (``names``), or
    /// in one module (``moduleNames``).
    struct Entry: Sendable, Equatable {
        /// How many lines list it as code (`t`, `T`, `w`, `W`): more than one means several
        /// functions of that name (static functions in different files).
        var functions: UInt32 = 0
        /// The type letter of its first line that is not code, 0 when it has none.
        var otherType: UInt8 = 0
    }

    /// Every name of the kernel and its loaded modules.
    private(set) var names: [String: Entry] = [:]
    /// The symbols of loaded modules, keyed `module:name`.
    private(set) var moduleNames: [String: Entry] = [:]
    /// The loaded modules that have symbols.
    private(set) var modules: Set<String> = []
    /// Compiler-made copies of functions (`foo.isra.0`, `foo.constprop.0`, `foo.part.0`,
    /// `foo.cold`), by the name of the function they were made from (`foo`).
    private(set) var copies: [String: [String]] = [:]
    /// Functions on the kernel's kprobe blacklist; empty when debugfs is not mounted.
    private(set) var blacklist: Set<String> = []
    /// How many lines kallsyms had.
    private(set) var lineCount = 0
    /// Whether every address was 0: this user may not see them (`kptr_restrict`).
    private(set) var addressesHidden = true

    /// The suffixes GCC and Clang give to the copies of a function that they specialise or split.
    static let copySuffixes = [".isra.", ".constprop.", ".part.", ".cold", ".llvm."]

    /// Reads `kallsyms` and, when it exists, the kprobe `blacklist`; `nil` when kallsyms cannot
    /// be read (a kernel without CONFIG_KALLSYMS).
    ///
    /// debugfs, which holds the blacklist, is read only when it is already mounted: a library
    /// that describes a probe does not mount file systems.
    init?(kallsyms: String = "/proc/kallsyms", blacklist blacklistPath: String = "/sys/kernel/debug/kprobes/blacklist") {
        guard let bytes = Self.readAll(kallsyms) else { return nil }
        parse(bytes)
        if let listed = Self.readAll(blacklistPath) { blacklist = Self.blacklistedNames(listed) }
    }

    /// Whether the kernel and its modules have a function called `name`.
    func hasFunction(_ name: String) -> Bool {
        (names[name]?.functions ?? 0) > 0
    }

    /// The functions of `module`, without the `module:` prefix.
    func functions(inModule module: String) -> [String] {
        let prefix = module + ":"
        return moduleNames.compactMap { key, entry in
            entry.functions > 0 && key.hasPrefix(prefix) ? String(key.dropFirst(prefix.count)) : nil
        }
    }

    /// The names of all functions that a probe may go on (not blacklisted).
    var probeableFunctions: [String] {
        names.compactMap { name, entry in entry.functions > 0 && !blacklist.contains(name) ? name : nil }
    }

    /// About how many bytes of memory the index takes: the hash tables' slots (keys, values and
    /// one metadata bit each) and the heap storage of every name longer than the 15 bytes a
    /// `String` holds inline (a 32-byte header plus the bytes, in 16-byte steps).
    var estimatedBytes: Int {
        func stored(_ name: String) -> Int {
            let count = name.utf8.count
            return count <= 15 ? 0 : (32 + count + 1 + 15) / 16 * 16
        }
        let slot = MemoryLayout<String>.stride + MemoryLayout<Entry>.stride
        var total = (names.capacity + moduleNames.capacity) * slot
        total += names.keys.reduce(0) { $0 + stored($1) } + moduleNames.keys.reduce(0) { $0 + stored($1) }
        total += copies.capacity * (MemoryLayout<String>.stride + MemoryLayout<[String]>.stride)
        total += copies.values.reduce(0) { $0 + 32 + $1.count * MemoryLayout<String>.stride }
        total += blacklist.capacity * MemoryLayout<String>.stride + blacklist.reduce(0) { $0 + stored($1) }
        return total
    }

    // MARK: - Reading

    /// One kallsyms line, as byte ranges of the file.
    struct Line {
        let address: Range<Int>
        let type: UInt8
        let name: Range<Int>
        /// Without the brackets.
        let module: Range<Int>?
    }

    /// Calls `body` for each well-formed line of `buffer`: `ADDRESS TYPE NAME[\t[MODULE]]`.
    static func forEachLine(in buffer: UnsafeBufferPointer<UInt8>, _ body: (Line) -> Void) {
        let end = buffer.count
        var start = 0
        while start < end {
            var lineEnd = start
            while lineEnd < end && buffer[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            defer { start = lineEnd + 1 }
            var cursor = start
            while cursor < lineEnd && buffer[cursor] != UInt8(ascii: " ") { cursor += 1 }
            guard cursor + 3 < lineEnd else { continue }
            let nameStart = cursor + 3
            var nameEnd = nameStart
            while nameEnd < lineEnd && buffer[nameEnd] != UInt8(ascii: "\t") { nameEnd += 1 }
            var module: Range<Int>?
            if nameEnd + 2 < lineEnd && buffer[nameEnd + 1] == UInt8(ascii: "[") {
                module = (nameEnd + 2)..<(buffer[lineEnd - 1] == UInt8(ascii: "]") ? lineEnd - 1 : lineEnd)
            }
            body(Line(address: start..<cursor, type: buffer[cursor + 1], name: nameStart..<nameEnd, module: module))
        }
    }

    private mutating func parse(_ bytes: [UInt8]) {
        names.reserveCapacity(bytes.count / 40)
        bytes.withUnsafeBufferPointer { buffer in
            Self.forEachLine(in: buffer) { line in
                func text(_ range: Range<Int>) -> String {
                    String(decoding: UnsafeBufferPointer(rebasing: buffer[range]), as: UTF8.self)
                }
                lineCount += 1
                if addressesHidden && buffer[line.address].contains(where: { $0 != UInt8(ascii: "0") }) {
                    addressesHidden = false
                }
                let module = line.module.map(text)
                if let module, module == "bpf" || module.hasPrefix("__builtin__") { return }
                add(text(line.name), type: line.type, module: module)
            }
        }
    }

    private mutating func add(_ name: String, type: UInt8, module: String?) {
        let isFunction = Self.isFunctionType(type)
        Self.record(&names[name, default: Entry()], type: type, isFunction: isFunction)
        if let module {
            modules.insert(module)
            Self.record(&moduleNames[module + ":" + name, default: Entry()], type: type, isFunction: isFunction)
        }
        if isFunction, let base = Self.copiedFunction(name), names[name]?.functions == 1 {
            copies[base, default: []].append(name)
        }
    }

    private static func record(_ entry: inout Entry, type: UInt8, isFunction: Bool) {
        if isFunction {
            entry.functions += 1
        } else if entry.otherType == 0 {
            entry.otherType = type
        }
    }

    /// `t`, `T`, `w`, `W`.
    static func isFunctionType(_ type: UInt8) -> Bool {
        type == UInt8(ascii: "t") || type == UInt8(ascii: "T") || type == UInt8(ascii: "w") || type == UInt8(ascii: "W")
    }

    /// The function `name` is a compiler-made copy of (`foo` for `foo.isra.0` or
    /// `foo.constprop.0.isra.0`), or `nil`.
    static func copiedFunction(_ name: String) -> String? {
        // Bytes, not Characters: this runs for every function while the index is built.
        let utf8 = name.utf8
        guard let dot = utf8.firstIndex(of: UInt8(ascii: ".")), dot != utf8.startIndex else { return nil }
        let rest = Substring(utf8[dot...])
        guard copySuffixes.contains(where: { rest.hasPrefix($0) }) else { return nil }
        return String(Substring(utf8[..<dot]))
    }

    /// Names from the blacklist's `0xSTART-0xEND\tNAME` lines (`NAME [module]` for modules).
    static func blacklistedNames(_ bytes: [UInt8]) -> Set<String> {
        var names = Set<String>()
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let tab = line.firstIndex(of: "\t") else { continue }
            let name = line[line.index(after: tab)...].split(separator: " ").first.map(String.init) ?? ""
            if !name.isEmpty { names.insert(name) }
        }
        return names
    }

    /// A kernel pseudo file's bytes (kallsyms is about 5 MB, produced a few KiB per read), or `nil`.
    static func readAll(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { chunk.deallocate() }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1 << 20)
        while true {
            let count = read(descriptor, chunk.baseAddress, chunk.count)
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[..<count]))
        }
    }

    /// The addresses of the functions called `name` (in `module`, when given), each as
    /// `0xADDRESS` or `0xADDRESS [module]`: to list them when a name has several. Only called to
    /// explain a refusal.
    static func addresses(of name: String, module: String?, kallsyms: String = "/proc/kallsyms") -> [String] {
        guard let bytes = readAll(kallsyms) else { return [] }
        let wanted = Array(name.utf8), wantedModule = module.map { Array($0.utf8) }
        var found: [String] = []
        bytes.withUnsafeBufferPointer { buffer in
            forEachLine(in: buffer) { line in
                guard isFunctionType(line.type), buffer[line.name].elementsEqual(wanted) else { return }
                let lineModule = line.module.map { Array(buffer[$0]) }
                if let wantedModule, lineModule != wantedModule { return }
                found.append("0x" + String(decoding: UnsafeBufferPointer(rebasing: buffer[line.address]), as: UTF8.self)
                    + (lineModule.map { " [\(String(decoding: $0, as: UTF8.self))]" } ?? ""))
            }
        }
        return found
    }
}
