#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An instance's per-CPU raw ring buffers (`per_cpu/cpuN/trace_pipe_raw`), each opened once and
/// read without blocking; closed when this goes away.
final class PerCPUBuffers {
    let layout: RingBufferLayout
    /// One per CPU, in CPU order; storage of plain values so the per-record path retains nothing.
    let buffers: UnsafeMutableBufferPointer<CPUBuffer>
    /// Bytes of one sub-buffer: `buffer_subbuf_size_kb` where the kernel has it, else a page.
    let subBufferSize: Int
    /// Sub-buffers of one CPU's ring buffer, plus the reader's own page.
    let subBuffersPerCPU: Int
    let instanceDirectory: String

    /// Opens the files of the instance whose directory is `instanceDirectory`.
    init(instanceDirectory: String, tracingDirectory: String, operation: String) throws(TraceFSError) {
        self.instanceDirectory = instanceDirectory
        layout = RingBufferLayout.read(tracingDirectory: tracingDirectory)
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        subBufferSize = Self.integer(in: instanceDirectory + "/buffer_subbuf_size_kb").map { $0 * 1024 } ?? pageSize
        let kilobytes = Self.bufferKilobytes(in: instanceDirectory) ?? 1408
        subBuffersPerCPU = kilobytes * 1024 / max(1, subBufferSize - layout.dataOffset) + 2
        let cpus = Self.cpus(in: instanceDirectory + "/per_cpu")
        guard !cpus.isEmpty else {
            throw TraceFSError(.notFound, operation: operation,
                               reason: "\(instanceDirectory)/per_cpu lists no CPU; the instance may have been removed")
        }
        buffers = .allocate(capacity: cpus.count)
        var opened = 0
        do throws(TraceFSError) {
            for cpu in cpus {
                let path = "\(instanceDirectory)/per_cpu/cpu\(cpu)/trace_pipe_raw"
                let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
                guard descriptor >= 0 else {
                    let error = errno
                    throw TraceFSError(.from(errno: error), operation: operation, reason: "could not open \(path)",
                                       function: "open", errno: error)
                }
                let page = UnsafeMutableRawPointer.allocate(byteCount: subBufferSize, alignment: 4096)
                (buffers.baseAddress! + opened).initialize(to: CPUBuffer(
                    cpu: cpu, descriptor: descriptor, page: page, pageSize: subBufferSize,
                    cursor: PageCursor(layout: layout)))
                opened += 1
            }
        } catch {
            for index in 0..<opened { Self.release(buffers[index]) }
            buffers.deallocate()
            throw error
        }
    }

    deinit {
        for buffer in buffers { Self.release(buffer) }
        buffers.deallocate()
    }

    /// Starts a pass: each CPU may read as many sub-buffers as its ring buffer holds (`bounded`),
    /// or any number.
    func startPass(bounded: Bool) {
        for index in buffers.indices {
            buffers[index].pagesLeft = bounded ? subBuffersPerCPU : .max
        }
    }

    private static func release(_ buffer: CPUBuffer) {
        close(buffer.descriptor)
        buffer.page.deallocate()
    }

    /// The numbers N of the `cpuN` directories under `directory`, sorted.
    static func cpus(in directory: String) -> [Int32] {
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var cpus: [Int32] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name.hasPrefix("cpu"), let cpu = Int32(name.dropFirst(3)) { cpus.append(cpu) }
        }
        return cpus.sorted()
    }

    /// The leading integer of a file.
    static func integer(in path: String) -> Int? {
        KernelFile.read(path).flatMap { Int($0.prefix { $0.isNumber }) }
    }

    /// `buffer_size_kb`: "1408", or "7 (expanded: 1408)" before the buffer was first used.
    static func bufferKilobytes(in directory: String) -> Int? {
        guard let text = KernelFile.read(directory + "/buffer_size_kb") else { return nil }
        if let range = text.firstRange(of: "expanded: ") {
            return Int(text[range.upperBound...].prefix { $0.isNumber })
        }
        return Int(text.prefix { $0.isNumber })
    }
}
