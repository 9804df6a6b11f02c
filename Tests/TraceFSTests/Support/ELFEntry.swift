#if canImport(Glibc)
import Glibc
#endif

/// The file offset of an ELF64 executable's entry point: a uprobe there fires once per run.
enum ELFEntry {
    static func fileOffset(of path: String) -> UInt64? {
        guard let data = readBinary(path), data.count > 64, data[0] == 0x7F, data[4] == 2 else { return nil }
        func word(_ at: Int, _ size: Int) -> UInt64 {
            (0..<size).reduce(UInt64(0)) { $0 | UInt64(data[at + $1]) << (8 * UInt64($1)) }
        }
        let entry = word(0x18, 8), table = Int(word(0x20, 8))
        let entrySize = Int(word(0x36, 2)), count = Int(word(0x38, 2))
        for index in 0..<count {
            let header = table + index * entrySize
            guard header + 40 <= data.count, word(header, 4) == 1 else { continue }  // PT_LOAD
            let offset = word(header + 8, 8), address = word(header + 16, 8), size = word(header + 32, 8)
            if entry >= address && entry < address + size { return entry - address + offset }
        }
        return nil
    }

    private static func readBinary(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes += chunk[0..<count]
        }
        return bytes
    }
}
