#if canImport(Glibc)
import Glibc
#endif

/// The file offset of an ELF64 executable's entry point: an instruction every run executes, for
/// uprobes that must fire. (The entry's virtual address, moved into its `PT_LOAD` segment's file range.)
enum ELFEntryPoint {
    static func fileOffset(of path: String) -> UInt64? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: 64 * 1024)
        let count = fread(&bytes, 1, bytes.count, file)
        guard count >= 64, bytes[0..<4] == [0x7f, 0x45, 0x4c, 0x46], bytes[4] == 2 else { return nil }
        func integer(_ offset: Int, _ size: Int) -> UInt64 {
            (0..<size).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
        }
        let entry = integer(0x18, 8)
        let headers = Int(integer(0x20, 8)), headerSize = Int(integer(0x36, 2)), headerCount = Int(integer(0x38, 2))
        for index in 0..<headerCount {
            let header = headers + index * headerSize
            guard header + 56 <= count else { return nil }
            let type = integer(header, 4), fileOffset = integer(header + 8, 8)
            let address = integer(header + 16, 8), size = integer(header + 32, 8)
            if type == 1 && entry >= address && entry < address + size { return entry - address + fileOffset }
        }
        return nil
    }
}
