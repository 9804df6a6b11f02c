import CTraceFS
@_spi(Tools) @testable import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Sub-buffers read from a real kernel's `trace_pipe_raw`, and the same pages parsed by
/// libtraceevent's `kbuffer` (the oracle) and by ``PageCursor``.
enum RawPageCapture {
    struct Event: Equatable, CustomStringConvertible {
        let offset: Int
        let size: Int
        let timestamp: UInt64
        let lost: Int64
        var description: String { "@\(offset)+\(size) t=\(timestamp) lost=\(lost)" }
    }

    /// What kinds of ring-buffer entries and page states a set of pages contained.
    struct Seen {
        var longRecords = 0, timeExtends = 0, paddings = 0, absoluteStamps = 0
        var missedWithCount = 0, missedWithoutCount = 0, shortCommits = 0, events = 0
        var eventIDs = Set<UInt16>()
    }

    /// Every sub-buffer each CPU of the instance in `directory` holds, as `read()` returned them.
    static func pages(of directory: String, subBufferSize: Int) -> [[UInt8]] {
        var pages: [[UInt8]] = []
        for cpu in PerCPUBuffers.cpus(in: directory + "/per_cpu") {
            let descriptor = open("\(directory)/per_cpu/cpu\(cpu)/trace_pipe_raw", O_RDONLY | O_NONBLOCK)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            while true {
                var page = [UInt8](repeating: 0, count: subBufferSize)
                let count = page.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                guard count > 0 else { break }
                pages.append(Array(page[0..<count]))
            }
        }
        return pages
    }

    /// The oracle: libtraceevent's kbuffer.
    static func kbufferEvents(_ page: [UInt8]) -> [Event] {
        guard let kbuffer = kbuffer_alloc(KBUFFER_LSIZE_8, KBUFFER_ENDIAN_LITTLE) else { return [] }
        defer { kbuffer_free(kbuffer) }
        var copy = page + [UInt8](repeating: 0, count: 16)
        return copy.withUnsafeMutableBytes { raw in
            var events: [Event] = []
            guard let base = raw.baseAddress, kbuffer_load_subbuffer(kbuffer, base) == 0 else { return events }
            var timestamp: UInt64 = 0
            var data = kbuffer_read_event(kbuffer, &timestamp)
            while let current = data {
                events.append(Event(offset: current - base, size: Int(kbuffer_event_size(kbuffer)),
                                    timestamp: timestamp, lost: Int64(kbuffer_missed_events(kbuffer))))
                data = kbuffer_next_event(kbuffer, &timestamp)
            }
            return events
        }
    }

    /// The reader under test.
    static func cursorEvents(_ page: [UInt8], layout: RingBufferLayout) -> [Event] {
        page.withUnsafeBytes { raw in
            var cursor = PageCursor(page: raw.baseAddress!, size: raw.count, layout: layout)
            var events: [Event] = []
            while cursor.next() {
                events.append(Event(offset: cursor.event.baseAddress! - raw.baseAddress!, size: cursor.event.count,
                                    timestamp: cursor.timestamp, lost: cursor.lostEventsBefore))
            }
            return events
        }
    }

    /// Tallies the entries of `pages` with kbuffer's raw walk (type of every entry) and headers.
    static func survey(_ pages: [[UInt8]], subBufferSize: Int) -> Seen {
        var seen = Seen()
        guard let kbuffer = kbuffer_alloc(KBUFFER_LSIZE_8, KBUFFER_ENDIAN_LITTLE) else { return seen }
        defer { kbuffer_free(kbuffer) }
        for page in pages {
            var copy = page + [UInt8](repeating: 0, count: 16)
            copy.withUnsafeMutableBytes { raw in
                let base = raw.baseAddress!
                let commit = base.load(fromByteOffset: 8, as: UInt64.self)
                if commit & (1 << 31) != 0 {
                    if commit & (1 << 30) != 0 { seen.missedWithCount += 1 } else { seen.missedWithoutCount += 1 }
                }
                if Int(commit & ((1 << 27) - 1)) < subBufferSize - 16 - 256 { seen.shortCommits += 1 }
                var info = kbuffer_raw_info(type: 0, length: 0, delta: 0, next: base + 16)
                while kbuffer_raw_get(kbuffer, base, &info) != nil {
                    switch info.type {
                    case 29: seen.paddings += 1
                    case 30: seen.timeExtends += 1
                    case 31: seen.absoluteStamps += 1
                    default:
                        seen.events += 1
                        if info.type == 0 { seen.longRecords += 1 }
                    }
                }
            }
            for event in kbufferEvents(page) where event.size >= 2 {
                seen.eventIDs.insert(page.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: event.offset, as: UInt16.self) })
            }
        }
        return seen
    }
}
