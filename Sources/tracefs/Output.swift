@_spi(Tools) import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Standard output, buffered, plus a status line on the terminal.
///
/// Lines are collected and written in large writes (every flush, at most 64 KiB apart). When
/// standard error is a terminal (`isatty(2)`), a status line (probes armed, events seen, lost
/// events) is drawn on it, one line rewritten in place (`\r`, then clear to the end of the line),
/// erased before each write of output and at the end. When standard error is not a terminal,
/// nothing but the output is written.
///
/// Sendable: everything mutable is behind the mutex (a `PthreadMutex`: ThreadSanitizer does not
/// model `Mutex`'s futex and reported this lock's sections as a race); the reading thread appends
/// and the watching thread flushes.
final class Output: Sendable {
    private struct State {
        var pending: [UInt8] = []
        var status = ""
        var statusShown = false
    }

    private let state = PthreadMutex(State())
    let isTerminal: Bool

    init() {
        isTerminal = isatty(STDERR_FILENO) == 1
    }

    func line(_ text: String) { self.text(text + "\n") }

    /// Output text as it is (a table that ends with its own newline).
    func text(_ text: String) {
        let full = state.withLock { state in
            state.pending.append(contentsOf: text.utf8)
            return state.pending.count >= 65536
        }
        if full { flush() }
    }

    /// Writes the pending lines, and on a terminal redraws `status` (when given) below them.
    func flush(status: String? = nil) {
        state.withLock { state in
            if let status { state.status = status }
            let redraw = isTerminal && !state.status.isEmpty
            guard !state.pending.isEmpty || (redraw && status != nil) else { return }
            if state.statusShown { writeAll(STDERR_FILENO, "\r\u{1B}[K") }
            Self.write(state.pending)
            state.pending.removeAll(keepingCapacity: true)
            if redraw {
                writeAll(STDERR_FILENO, state.status)
                state.statusShown = true
            }
        }
    }

    /// Writes the pending lines and removes the status line.
    func finish() {
        state.withLock { state in
            if state.statusShown { writeAll(STDERR_FILENO, "\r\u{1B}[K") }
            state.statusShown = false
            state.status = ""
            Self.write(state.pending)
            state.pending.removeAll()
        }
    }

    private static func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}
