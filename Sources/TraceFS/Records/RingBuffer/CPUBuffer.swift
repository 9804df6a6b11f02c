#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One CPU's `trace_pipe_raw`, opened once, read a sub-buffer at a time into a page of its own.
struct CPUBuffer {
    let cpu: Int32
    let descriptor: Int32
    let page: UnsafeMutableRawPointer
    let pageSize: Int
    var cursor: PageCursor
    /// Whether ``cursor`` stands on an event.
    var hasEvent = false
    /// Sub-buffers this pass may still read (a pass reads what the buffer held when it began).
    var pagesLeft = Int.max

    /// What a `read()` of the next sub-buffer gave.
    enum Fill { case page, empty }

    /// Reads the next sub-buffer and moves to its first event; `.empty` when the kernel has none
    /// now (or this pass has read its share).
    mutating func fill(layout: RingBufferLayout) throws(ReadFailure) -> Fill {
        while pagesLeft > 0 {
            let count = read(descriptor, page, pageSize)
            if count < 0 {
                let error = errno
                if error == EINTR { continue }
                if error == EAGAIN { return .empty }
                throw ReadFailure(cpu: cpu, errno: error)
            }
            if count == 0 { return .empty }
            pagesLeft -= 1
            cursor = PageCursor(page: page, size: count, layout: layout)
            if cursor.next() {
                hasEvent = true
                return .page
            }
        }
        return .empty
    }

    struct ReadFailure: Error {
        let cpu: Int32
        let errno: Int32
    }
}
