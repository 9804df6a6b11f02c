/// What `readelf` says about a file, parsed independently of the code under test, to compute the
/// file offsets a symbol lookup must find.
enum Readelf {
    static let path = "/usr/bin/readelf"

    struct Symbol: Equatable {
        let value: UInt64
        let size: UInt64
        let type: String
        /// The name as readelf prints it, with its version: `malloc@@GLIBC_2.2.5`.
        let name: String
    }

    /// The defined symbols (`readelf -Ws`) named `name`, with or without a version.
    static func symbols(named name: String, in file: String) -> [Symbol] {
        let output = ChildRun.run([path, "-Ws", file]).output
        return output.split(separator: "\n").compactMap { line in
            // "  1744: 0000000000098930   791 FUNC    GLOBAL DEFAULT   16 malloc@@GLIBC_2.2.5"
            let fields = line.split(separator: " ")
            guard fields.count >= 8, fields[0].hasSuffix(":"), fields[6] != "UND",
                  let value = UInt64(fields[1], radix: 16), let size = UInt64(fields[2]) else { return nil }
            let full = String(fields[7])
            guard full == name || full.hasPrefix(name + "@") else { return nil }
            return Symbol(value: value, size: size, type: String(fields[3]), name: full)
        }
    }

    /// The `PT_LOAD` segments (`readelf -lW`): file offset, virtual address, file size.
    static func loadSegments(of file: String) -> [(offset: UInt64, address: UInt64, fileSize: UInt64)] {
        let output = ChildRun.run([path, "-lW", file]).output
        return output.split(separator: "\n").compactMap { line in
            // "  LOAD 0x026000 0x0000000000026000 0x0000000000026000 0x1550fc 0x1550fc R E 0x1000"
            let fields = line.split(separator: " ")
            guard fields.count >= 6, fields[0] == "LOAD" else { return nil }
            func hex(_ text: Substring) -> UInt64? { UInt64(text.dropFirst(2), radix: 16) }
            guard let offset = hex(fields[1]), let address = hex(fields[2]), let size = hex(fields[4]) else { return nil }
            return (offset, address, size)
        }
    }

    /// The file offset of virtual address `address`, through the segment that holds it.
    static func fileOffset(ofAddress address: UInt64, in file: String) -> UInt64? {
        loadSegments(of: file).first { address >= $0.address && address - $0.address < $0.fileSize }
            .map { address - $0.address + $0.offset }
    }

    /// Section names (`readelf -SW`).
    static func hasSection(_ name: String, in file: String) -> Bool {
        ChildRun.run([path, "-SW", file]).output.split(separator: "\n").contains { line in
            line.split(separator: " ").contains { $0 == name }
        }
    }
}

/// The shared C library this process runs with, from /proc/self/maps.
enum SystemLibC {
    static let path: String? = {
        readKernelFile("/proc/self/maps").split(separator: "\n").lazy.compactMap { line -> String? in
            guard let slash = line.firstIndex(of: "/") else { return nil }
            let path = String(line[slash...])
            return path.hasSuffix("/libc.so.6") ? path : nil
        }.first
    }()
}

/// The offset a uprobe descriptor carries: "path:0x0000000000098930" gives 0x98930.
func probeOffset(_ address: String?) -> UInt64? {
    guard let address, let colon = address.lastIndex(of: ":") else { return nil }
    return UInt64(address[address.index(colon, offsetBy: 3)...], radix: 16)
}
