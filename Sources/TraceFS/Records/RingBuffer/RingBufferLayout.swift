/// Where the kernel puts things in a ring-buffer sub-buffer (page) and its event headers, read from
/// `events/header_page` and `events/header_event` where the kernel describes them.
///
/// What those files do not say is fixed by the kernel's ABI (`kernel/trace/ring_buffer.c`): the
/// commit word's top bits flag missed events (bit 31) and a stored count of them after the data
/// (bit 30), and its low 27 bits are the data's length.
struct RingBufferLayout: Equatable, Sendable {
    var timestampOffset = 0
    var commitOffset = 8
    var commitSize = 8
    /// Where the events start.
    var dataOffset = 16
    /// `type_len` values: up to `dataMaxTypeLength` it is the data's length in 4-byte words (0: the
    /// length is in the next word).
    var dataMaxTypeLength: UInt32 = 28
    var paddingType: UInt32 = 29
    var timeExtendType: UInt32 = 30
    var timeStampType: UInt32 = 31
    /// Bits of `time_delta` in the event header; a time extend holds the bits above them.
    var timeDeltaBits: UInt32 = 27

    static let missedEventsFlag: UInt64 = 1 << 31
    static let missedCountStoredFlag: UInt64 = 1 << 30
    static let commitMask: UInt64 = (1 << 27) - 1

    /// The layout the kernel under `tracingDirectory` describes; the kernel's long-standing
    /// defaults for whatever the files do not say.
    static func read(tracingDirectory: String) -> RingBufferLayout {
        var layout = RingBufferLayout()
        if let page = KernelFile.read(tracingDirectory + "/events/header_page") {
            layout.apply(headerPage: page)
        }
        if let event = KernelFile.read(tracingDirectory + "/events/header_event") {
            layout.apply(headerEvent: event)
        }
        return layout
    }

    /// `field: u64 timestamp;	offset:0;	size:8;	signed:0;` lines.
    mutating func apply(headerPage text: String) {
        for line in text.split(separator: "\n") {
            guard let name = Self.fieldName(line), let offset = Self.number(after: "offset:", in: line),
                  let size = Self.number(after: "size:", in: line) else { continue }
            switch name {
            case "timestamp": timestampOffset = offset
            case "commit": (commitOffset, commitSize) = (offset, size)
            case "data": dataOffset = offset
            default: break
            }
        }
    }

    /// `padding : type == 29`, `data max type_len  == 28`, `time_delta : 27 bits` lines.
    mutating func apply(headerEvent text: String) {
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" })
            guard let first = words.first, let last = words.last else { continue }
            if line.contains("==") {
                guard let value = UInt32(last) else { continue }
                switch first {
                case "padding": paddingType = value
                case "time_extend": timeExtendType = value
                case "time_stamp": timeStampType = value
                case "data": dataMaxTypeLength = value
                default: break
                }
            } else if first == "time_delta", words.count >= 3, let bits = UInt32(words[1]), last == "bits" {
                timeDeltaBits = bits
            }
        }
    }

    private static func fieldName(_ line: Substring) -> Substring? {
        guard line.contains("field:"), let semicolon = line.firstIndex(of: ";") else { return nil }
        let declaration = line[..<semicolon]
        return declaration.split(separator: " ").last
    }

    private static func number(after key: String, in line: Substring) -> Int? {
        guard let range = line.firstRange(of: key) else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }
}
