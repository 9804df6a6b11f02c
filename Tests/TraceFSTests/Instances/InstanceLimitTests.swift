import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Markers and buffer sizes at and past what the kernel takes: refused before writing, with the
/// limit named, and nothing half-written.
extension KernelSuite {
    @Suite(.enabled(if: KernelFeatures.isRoot, "needs root"))
    struct InstanceLimitTests {
        /// The `ftrace/print` texts in the instance's `trace` file, read directly.
        static func markers(in instance: Instance) -> [Substring] {
            readKernelFile((instance.directory ?? "") + "/trace").split(separator: "\n")
                .filter { !$0.hasPrefix("#") }
                .compactMap { line in line.firstRange(of: "tracing_mark_write: ").map { line[$0.upperBound...] } }
        }

        @Test func aMarkerOfTheLimitIsKeptWholeAndALongerOneIsRefusedBeforeWriting() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("marker")) { instance in
                let limit = Instance.maximumMarkerLength
                // This machine's 6.18 keeps 4054 bytes in one record (a 4 KiB page less 42 bytes of
                // headers), Debian 12's 6.1 kernel 1024 (TRACE_BUF_SIZE).
                #expect(limit == (KernelFeatures.inGuest ? 1024 : 4054))
                let longest = String(repeating: "m", count: limit)
                try instance.writeMarker(longest)
                #expect(Self.markers(in: instance).map(String.init) == [longest])

                try instance.clear()
                for text in [longest + "x", String(repeating: "n", count: 5000)] {
                    let error = try #require(throws: TraceFSError.self) { try instance.writeMarker(text) }
                    #expect(error.code == .invalidArgument)
                    #expect(error.function == nil, "written: \(error)")
                    #expect(error.reason.contains("\(limit) bytes"), "\(error)")
                }
                #expect(Self.markers(in: instance).isEmpty)
            }
        }

        @Test func emptyTextAndLineBreaksAreRefusedWithAClearReason() throws {
            try Instance.withTemporary(named: TemporaryInstance.name("marker")) { instance in
                let empty = try #require(throws: TraceFSError.self) { try instance.writeMarker("") }
                #expect(empty.code == .invalidArgument)
                #expect(empty.function == nil)
                #expect(empty.reason.contains("empty"))
                for text in ["forged\n   <idle>-0 [000] d..1 1.0: print: fake", "a\rb", "line\n"] {
                    let error = try #require(throws: TraceFSError.self) { try instance.writeMarker(text) }
                    #expect(error.code == .invalidArgument)
                    #expect(error.reason.contains("line break"))
                }
                #expect(Self.markers(in: instance).isEmpty)
            }
        }

        @Test func aCPUThatDoesNotExistIsRefused() throws {
            let name = TemporaryInstance.name("cpu")
            let instances = try Instance.names()
            try Instance.withTemporary(named: name) { instance in
                let possible = ControlDirectory.count(instance.directory.map { $0 + "/per_cpu" } ?? "")
                #expect(possible > 0)
                for cpu in [-1, -2, possible, 1 << 40, Int.min] {
                    let read = try #require(throws: TraceFSError.self) { try instance.bufferSize(cpu: cpu) }
                    #expect(read.code == .invalidArgument, "cpu \(cpu): \(read)")
                    #expect(read.reason.contains("cpu \(cpu)"))
                    let write = try #require(throws: TraceFSError.self) { try instance.setBufferSize(kilobytes: 64, cpu: cpu) }
                    #expect(write.code == .invalidArgument, "cpu \(cpu): \(write)")
                }
                #expect(try instance.bufferSize(cpu: possible - 1) > 0)
            }
            #expect(try Instance.names() == instances)
        }
    }
}

/// Counting a directory's subdirectories, independently of the code under test.
enum ControlDirectory {
    static func count(_ path: String) -> Int {
        guard let directory = opendir(path) else { return 0 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasPrefix("cpu") { count += 1 }
        }
        return count
    }
}
