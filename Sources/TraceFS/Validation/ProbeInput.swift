#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Checks every argument of a dynamic event before anything is written to the kernel.
///
/// libtracefs writes system, event, address and format as one line into a kernel control file, so
/// a newline in any of them would define or delete other events. Each check throws
/// ``TraceFSError`` with ``TraceFSError/Code-swift.struct/invalidArgument`` (or `notFound` for a
/// missing file) and a message that says which argument is wrong and how to fix it.
struct ProbeInput {
    /// The kernel reads one control-file write of at most 4096 bytes (WRITE_BUFSIZE).
    static let maximumCommandLength = 4095

    /// What the checked call was to do, for error messages; built only when a check fails.
    let operation: () -> String

    init(operation: @escaping @autoclosure () -> String) {
        self.operation = operation
    }

    func name(_ value: String, as role: String) throws(TraceFSError) {
        if let problem = EventName.problem(with: value) {
            throw invalid("\(role) name \(Self.display(value)) is not valid: \(problem); "
                + "EventName.sanitized(_:) gives '\(EventName.sanitized(value))'")
        }
    }

    /// A kprobe place: `[module:]symbol[+offset]` or a hexadecimal address. The kernel's
    /// `%return` suffix is refused: it would turn a kprobe into a kretprobe behind the caller's back
    /// (use ``DynamicEvent/kretprobe(system:event:address:format:maxActive:)``).
    func kernelAddress(_ value: String) throws(TraceFSError) {
        try printable(value, as: "address", allowSpaces: false)
        guard !value.isEmpty else {
            throw invalid("the address is empty: give a kernel symbol such as 'do_sys_openat2', "
                + "'symbol+offset' or a hexadecimal address")
        }
        if value.contains("%") {
            throw invalid("address \(Self.display(value)) asks for a return probe with '%'; "
                + "use DynamicEvent.kretprobe for return probes")
        }
        let allowed = value.unicodeScalars.allSatisfy { scalar in
            scalar.properties.isASCIIHexDigit || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                || "_.:+x".unicodeScalars.contains(scalar)
        }
        guard allowed else {
            throw invalid("address \(Self.display(value)) is not a kernel symbol, "
                + "'[module:]symbol[+offset]' or a hexadecimal address")
        }
    }

    /// The fetch arguments or format of a probe: printable ASCII on one line.
    func format(_ value: String?, as role: String) throws(TraceFSError) {
        guard let value else { return }
        try printable(value, as: role, allowSpaces: true)
    }

    /// A uprobe's binary: an existing regular file whose path has no spaces, and an offset
    /// inside it. Returns the path to write: a relative path made absolute against the current
    /// directory (the kernel would resolve it the same way, but list it as given, which means
    /// nothing to another process); paths under `/proc` are refused, since `/proc/self/fd/3` names
    /// a different file for every process that reads the listing.
    func userBinary(_ path: String, offset: UInt64) throws(TraceFSError) -> String {
        let (path, size) = try userBinary(path)
        guard offset < size else {
            throw invalid("offset 0x\(String(offset, radix: 16)) is past the end of \(Self.display(path)) "
                + "(\(size) bytes): give a file offset of an instruction inside it")
        }
        return path
    }

    /// The path checks of ``userBinary(_:offset:)``: returns the path to write and the file's size.
    func userBinary(_ path: String) throws(TraceFSError) -> (path: String, size: UInt64) {
        try printable(path, as: "file path", allowSpaces: false)
        guard !path.isEmpty else { throw invalid("the file path is empty: give the binary or library to probe") }
        if path == "/proc" || path.hasPrefix("/proc/") {
            throw invalid("the file path \(Self.display(path)) is under /proc, whose links name a different file "
                + "for each process; give the file's own path")
        }
        let path = path.hasPrefix("/") ? path : try absolute(path)
        var info = stat()
        guard stat(path, &info) == 0 else {
            let error = currentErrno()
            throw TraceFSError(
                error == ENOENT || error == ENOTDIR ? .notFound : TraceFSError.Code.from(errno: error),
                operation: operation(),
                reason: "cannot probe \(Self.display(path)): \(TraceFSError.errnoText(error).lowercased()); "
                    + "give the path of an existing executable or shared library",
                function: "stat", errno: error)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw invalid("\(Self.display(path)) is not a regular file: uprobes go on executables and libraries")
        }
        return (path, UInt64(info.st_size))
    }

    /// A function's name in an ELF symbol table (`malloc`, `_ZN3foo3barEv`, `realpath@@GLIBC_2.3`):
    /// one word of printable ASCII without `#`. It is not written to the kernel, but the event's
    /// default name is made from it, and a name with a newline or `#` is a mistake worth naming.
    ///
    /// With another `role`, a USDT probe's provider or name (`python`, `function__entry`), checked
    /// the same way.
    func symbol(_ value: String, as role: String = "symbol") throws(TraceFSError) {
        guard !value.isEmpty else {
            throw invalid(role == "symbol"
                ? "the symbol is empty: give a function's name as nm or readelf -Ws lists it, such as 'malloc'"
                : "the \(role) is empty: give it as readelf -n lists it")
        }
        try printable(value, as: role, allowSpaces: false)
    }

    /// `path` prefixed with the current directory.
    private func absolute(_ path: String) throws(TraceFSError) -> String {
        guard let directory = getcwd(nil, 0) else {
            throw TraceFSError(.from(errno: currentErrno()), operation: operation(),
                               reason: "the relative path \(Self.display(path)) cannot be made absolute: the current "
                                   + "directory is unknown; give an absolute path",
                               function: "getcwd", errno: reportableErrno(currentErrno()))
        }
        defer { free(directory) }
        let absolute = String(cString: directory) + "/" + path
        try printable(absolute, as: "file path", allowSpaces: false)
        return absolute
    }

    /// The definition's length: `parts`, `extra` more bytes, a separator after each part, and room
    /// for the prefix ("r4096:") and the newline.
    func commandLength(_ parts: String?..., extra: Int = 0) throws(TraceFSError) {
        let length = parts.reduce(extra) { $0 + ($1?.utf8.count ?? 0) + 1 } + 8
        guard length <= Self.maximumCommandLength else {
            throw invalid("the probe definition is \(length) bytes long; the kernel reads at most "
                + "\(Self.maximumCommandLength) bytes in one definition: use fewer or shorter arguments")
        }
    }

    private func printable(_ value: String, as role: String, allowSpaces: Bool) throws(TraceFSError) {
        for scalar in value.unicodeScalars {
            if scalar == "#" {
                throw invalid("the \(role) \(Self.display(value)) contains '#', which starts a comment in the "
                    + "kernel's probe parser: everything after it would be dropped silently"
                    + (role == "file path" ? "; rename or link the file to a path without '#'" : ""))
            }
            let isControl = scalar.value < 0x20 || scalar.value == 0x7F
            if isControl || (!allowSpaces && scalar == " ") {
                throw invalid("the \(role) \(Self.display(value)) contains \(EventName.quoted(scalar)); "
                    + "the kernel reads definitions line by line and splits them at spaces, so it must be "
                    + (allowSpaces ? "one line of printable ASCII" : "one word of printable ASCII"))
            }
            if !scalar.isASCII {
                throw invalid("the \(role) \(Self.display(value)) contains the non-ASCII character "
                    + "'\(scalar)'; the kernel's probe syntax is ASCII")
            }
        }
    }

    func invalid(_ reason: String) -> TraceFSError {
        TraceFSError(.invalidArgument, operation: operation(), reason: reason)
    }

    /// A value as it may safely appear in a message: quoted, with control characters (C0, DEL and
    /// C1) and the invisible bidirectional formatting characters escaped, so that a message shows
    /// the input's characters in their real order (no Trojan-Source reordering in a terminal or log).
    static func display(_ value: String) -> String {
        var text = ""
        for scalar in value.unicodeScalars.prefix(80) {
            switch scalar {
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "'": text += "\\'"
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || isBidiControl(scalar) {
                    text += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        if value.unicodeScalars.count > 80 { text += "..." }
        return "'\(text)'"
    }

    /// U+061C, U+200E/F, U+202A-U+202E, U+2066-U+2069: they reorder the text around them.
    static func isBidiControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
