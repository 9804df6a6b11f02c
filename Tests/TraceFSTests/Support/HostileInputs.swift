/// Generated inputs for dynamic events: mostly plausible values with hostile ones mixed in
/// (control characters, newlines that would start a second definition, `-:` and `/` inside names,
/// overlong, empty and non-ASCII strings, `#` which starts a comment in the kernel's probe parser,
/// names that differ from another event's only in case, offsets at and past the end of the file).
struct HostileInputs {
    var generator: SeededGenerator

    static let hostileFragments = [
        "\n", "\r", "\t", " ", "/", "-:", ":", ".", "é", "日本", "\u{0}", "\u{7F}", "\u{1B}[31m", "\\n",
        "\np:swtest_evil/evil /bin/true:0x10", "\n-:uprobes/x", ";", "'", "\"", "$", "%", "+", "(", ")",
        "#", "#x", " #", ":0x10#",
    ]

    mutating func chance(_ percent: UInt64) -> Bool { generator.next() % 100 < percent }

    mutating func pick<T>(_ values: [T]) -> T { values[Int(generator.next() % UInt64(values.count))] }

    mutating func identifier(maxLength: Int = 20) -> String {
        let first = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
        let rest = first + Array("0123456789")
        let length = 1 + Int(generator.next() % UInt64(maxLength))
        return String([pick(first)] + (1..<length).map { _ in pick(rest) })
    }

    /// `name` with the case of each letter flipped at random (sometimes not at all).
    mutating func caseVariant(of name: String) -> String {
        String(name.map { character in
            guard character.isLetter, chance(50) else { return character }
            return character.isUppercase ? Character(character.lowercased()) : Character(character.uppercased())
        })
    }

    /// A group or event name: valid 70% of the time.
    mutating func name(prefix: String) -> String {
        if chance(70) { return prefix + identifier() }
        switch generator.next() % 6 {
        case 0: return ""
        case 1: return String(repeating: "n", count: 65 + Int(generator.next() % 100))
        case 2: return "\(generator.next() % 10)" + identifier()
        default:
            var text = prefix + identifier(maxLength: 8)
            let index = text.index(text.startIndex, offsetBy: Int(generator.next() % UInt64(text.count + 1)))
            text.insert(contentsOf: pick(Self.hostileFragments), at: index)
            return text
        }
    }

    mutating func filePath() -> String {
        if chance(75) { return "/bin/true" }
        return pick(["/bin/true\n", "/bin/ true", "/nonexistent/file", "", "bin/true", "/bin", "/bin/true\u{0}x",
                     "/bin/tru\u{E9}", "/bin/true\np:swtest_evil/e /bin/true:0x10", "/etc/hostname",
                     "/bin/true#", "/bin/true#:0x10", "/proc/self/exe", "../../../../../../../../bin/true",
                     "/" + String(repeating: "x", count: 5000)])
    }

    mutating func offset(fileSize: UInt64) -> UInt64 {
        switch generator.next() % 8 {
        case 0: return 0
        case 1: return fileSize
        case 2: return fileSize &+ 1 &+ generator.next() % 1000
        case 3: return .max
        case 4: return fileSize &- 1
        default: return fileSize == 0 ? 0 : generator.next() % fileSize
        }
    }

    mutating func fetchArgs(kernel: Bool) -> String? {
        if chance(30) { return nil }
        let valid = kernel
            ? ["a=$arg1", "file=+0($arg2):ustring", "flags=+0($arg3):x64", "a=$arg1:u32 b=$arg2:s64", "c=$comm"]
            : ["a=%ax", "a=%ax:u32 b=%bx:s64", "s=+0(%sp):u64", "c=$comm", "x=%ip:x64"]
        if chance(60) { return pick(valid) }
        switch generator.next() % 5 {
        case 0: return String(repeating: "a=%ax ", count: 700 + Int(generator.next() % 100))
        case 1: return pick(["x=%nosuchreg", "$retval", "=%ax", "a=+0(", "b=@nosuchsym"])
        default:
            var text = pick(valid)
            let index = text.index(text.startIndex, offsetBy: Int(generator.next() % UInt64(text.count + 1)))
            text.insert(contentsOf: pick(Self.hostileFragments), at: index)
            return text
        }
    }

    /// A function name for a uprobe by symbol in libc: half of them real functions (some with
    /// their version), the rest misspelt, data, ambiguous, or hostile.
    mutating func symbol() -> String {
        if chance(50) {
            return pick(["malloc", "free", "calloc", "realloc", "strlen", "malloc@@GLIBC_2.2.5", "realpath@@GLIBC_2.3",
                         "posix_spawn@GLIBC_2.2.5", "free@GLIBC_2.2.5"])
        }
        return pick(["mallocc", "Malloc", "environ", "stdout", "realpath", "memcpy", "", "malloc\n",
                     "malloc\np:swtest_evil/e /bin/true:0x10", "mal#loc", "malloc #x", " malloc", "mall\u{0}oc",
                     "mall\u{E9}oc", "malloc@GLIBC_9.9", "@", "@@", "malloc@", "malloc\t", "\u{202E}malloc",
                     String(repeating: "m", count: 5000)])
    }

    /// Bytes into the function: mostly its entry, sometimes inside it, sometimes far past its end.
    mutating func functionOffset() -> UInt64 {
        pick([0, 0, 0, 1, 4, 100_000, .max])
    }

    mutating func kernelAddress() -> String {
        if chance(50) { return pick(["do_sys_openat2", "vfs_read", "do_sys_openat2+0x4", "ksys_write"]) }
        return pick(["no_such_symbol_x", "foo.isra.0", "do_sys_openat2 x", "do_sys_openat2\n-:kprobes/x", "",
                     "vfs_read%return", "0x0", "ext4:nosuch", "do_sys_openat2+", "é", "vfs_read\r",
                     "vfs_read#", "vfs_read #x", "VFS_READ", "Do_Sys_Openat2"])
    }
}
