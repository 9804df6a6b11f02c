#if canImport(Glibc)
import Glibc
#endif

/// Kernel output captured from real kernels, committed under Tests/TraceFSTests/Fixtures (read
/// from the source tree, so that the guest, which sees the host's root, reads the same files).
enum Fixture {
    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String { "fixture \(path) is missing" }
    }

    static let directory: String = {
        let source = #filePath  // .../Tests/TraceFSTests/Support/Fixture.swift
        var parts = source.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/Fixtures"
    }()

    static func text(_ name: String) throws -> String {
        let path = directory + "/" + name
        guard access(path, R_OK) == 0 else { throw Missing(path: path) }
        return readKernelFile(path)
    }
}
