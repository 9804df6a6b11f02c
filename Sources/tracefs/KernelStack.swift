import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// The kernel stacks that the `stacktrace` option records after each event (`ftrace/kernel_stack`),
/// as `symbol+0xOFFSET/0xSIZE [module]`, the kernel's `%pS`.
///
/// Sendable: the symbol table is read once in `init` and never changes.
final class KernelStack: Sendable {
    /// Text symbols by start address, ascending.
    private let starts: [UInt64]
    private let names: [String]

    /// Reads the text symbols of `/proc/kallsyms` (as root the addresses are real; otherwise the
    /// kernel shows zeros and frames are printed as addresses).
    init() {
        var symbols: [(address: UInt64, name: String)] = []
        let bytes = Array((readFile("/proc/kallsyms") ?? "").utf8)
        // Lines "ffffffff81234560 T do_sys_openat2" or "ffffffffc0123450 t v9fs_mount\t[9p]", read
        // byte by byte: 100,000 lines and more.
        var index = 0
        while index < bytes.count {
            var address: UInt64 = 0
            while index < bytes.count, let digit = Self.hexDigit(bytes[index]) {
                address = address << 4 | digit
                index += 1
            }
            let typeIndex = index + 1
            let type = typeIndex < bytes.count ? bytes[typeIndex] : 0
            var end = typeIndex
            while end < bytes.count, bytes[end] != 0x0A { end += 1 }
            let isText = type == UInt8(ascii: "t") || type == UInt8(ascii: "T") || type == UInt8(ascii: "w") || type == UInt8(ascii: "W")
            if isText, address != 0, typeIndex + 2 < end {
                // The name, and " [module]" after a tab.
                let name = String(decoding: bytes[(typeIndex + 2)..<end], as: UTF8.self)
                symbols.append((address, name.contains("\t") ? name.replacingTabs() : name))
            }
            index = end + 1
        }
        symbols.sort { $0.address < $1.address }
        starts = symbols.map(\.address)
        names = symbols.map(\.name)
    }

    private static func hexDigit(_ byte: UInt8) -> UInt64? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt64(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt64(byte - UInt8(ascii: "a") + 10)
        default: nil
        }
    }

    /// The return addresses of a `kernel_stack` record, innermost first: `size` entries of its
    /// `caller` array (the format says 8, the record holds as many as the kernel stored), up to a
    /// ULONG_MAX end marker.
    static func addresses(_ record: borrowing Record) -> [UInt64] {
        guard let field = record.format.field(named: "caller") else { return [] }
        let declared = Int(record.signed("size") ?? 0)
        return record.withUnsafeData { data in
            let count = min(max(0, declared), max(0, (data.count - field.offset) / 8))
            var result: [UInt64] = []
            for index in 0..<count {
                let address = data.loadUnaligned(fromByteOffset: field.offset + 8 * index, as: UInt64.self)
                if address == .max || address == 0 { break }
                result.append(address)
            }
            return result
        }
    }

    /// `symbol+0xOFFSET/0xSIZE` (and ` [module]` for a module's), or the address in hexadecimal
    /// when no symbol holds it.
    func describe(_ address: UInt64) -> String {
        var low = 0, high = starts.count
        while low < high {
            let middle = (low + high) / 2
            if starts[middle] <= address { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return "0x" + String(address, radix: 16) }
        let index = low - 1
        let parts = names[index].split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        let size = index + 1 < starts.count ? "/0x" + String(starts[index + 1] - starts[index], radix: 16) : ""
        return String(parts[0]) + "+0x" + String(address - starts[index], radix: 16) + size
            + (parts.count > 1 ? " " + parts[1] : "")
    }
}

private extension String {
    /// "v9fs_mount\t[9p]" as "v9fs_mount [9p]".
    func replacingTabs() -> String { String(map { $0 == "\t" ? " " : $0 }) }
}
