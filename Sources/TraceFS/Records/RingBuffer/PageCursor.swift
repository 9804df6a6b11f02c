/// Walks the events of one ring-buffer sub-buffer as `read()` from `trace_pipe_raw` returned it,
/// the way the kernel writes them: a 32-bit header `type_len:5 time_delta:27` per event; type 0
/// keeps the data's length in the next word, padding skips, a time extend adds the bits above
/// `time_delta`, an absolute time stamp replaces the time.
///
/// Nothing here allocates or retains: the cursor points into a page its owner keeps. Inlinable, so
/// that the walk over a page is compiled into the caller of ``Instance/readRecords(using:order:_:)``
/// together with its closure.
@usableFromInline
struct PageCursor {
    @usableFromInline var data: UnsafeRawPointer
    /// Bytes of events on the page (the commit, without its flags).
    @usableFromInline var length: Int
    @usableFromInline var offset = 0
    /// The event header's `type_len` values and time-delta width (from ``RingBufferLayout``), kept
    /// here rather than the whole layout so that copying a cursor into a walk's locals stays cheap.
    @usableFromInline let dataMaxTypeLength: UInt32
    @usableFromInline let paddingType: UInt32
    @usableFromInline let timeExtendType: UInt32
    @usableFromInline let timeDeltaBits: UInt32
    /// The time of the event last returned (the page's time plus the deltas so far).
    @usableFromInline var timestamp: UInt64
    /// Events the kernel dropped before this page: 0, the stored count, or -1 when it dropped some
    /// without storing how many. Reported with the page's first event.
    @usableFromInline var lostEventsBefore: Int64 = 0
    /// The page's lost-events count until its first event takes it.
    @usableFromInline var lostEventsOnPage: Int64
    /// The current event's data.
    @usableFromInline var event = UnsafeRawBufferPointer(start: nil, count: 0)

    /// A cursor before the first event of `page` (`size` bytes read).
    init(page: UnsafeRawPointer, size: Int, layout: RingBufferLayout) {
        (dataMaxTypeLength, paddingType, timeExtendType, timeDeltaBits) =
            (layout.dataMaxTypeLength, layout.paddingType, layout.timeExtendType, layout.timeDeltaBits)
        data = page + layout.dataOffset
        guard size >= layout.dataOffset else {
            length = 0
            timestamp = 0
            lostEventsOnPage = 0
            return
        }
        timestamp = (page + layout.timestampOffset).loadUnaligned(as: UInt64.self)
        let commit = layout.commitSize == 8
            ? (page + layout.commitOffset).loadUnaligned(as: UInt64.self)
            : UInt64((page + layout.commitOffset).loadUnaligned(as: UInt32.self))
        length = min(Int(commit & RingBufferLayout.commitMask), size - layout.dataOffset)
        if commit & RingBufferLayout.missedEventsFlag == 0 {
            lostEventsOnPage = 0
        } else if commit & RingBufferLayout.missedCountStoredFlag != 0, length + 8 <= size - layout.dataOffset {
            lostEventsOnPage = (data + length).loadUnaligned(as: Int64.self)
        } else {
            lostEventsOnPage = -1
        }
    }

    /// An empty cursor.
    init(layout: RingBufferLayout) {
        (dataMaxTypeLength, paddingType, timeExtendType, timeDeltaBits) =
            (layout.dataMaxTypeLength, layout.paddingType, layout.timeExtendType, layout.timeDeltaBits)
        data = UnsafeRawPointer(bitPattern: 0x10)!
        length = 0
        timestamp = 0
        lostEventsOnPage = 0
    }

    /// Moves to the next data event; `false` at the end of the page. After the first event,
    /// ``lostEventsBefore`` is 0.
    @inlinable @inline(__always)
    mutating func next() -> Bool {
        lostEventsBefore = lostEventsOnPage
        lostEventsOnPage = 0
        // Offsets stay below `length` (at most 2^27), so wrapping arithmetic cannot wrap: it only
        // spares the overflow checks on the per-record path.
        while offset &+ 4 <= length {
            let header = (data + offset).loadUnaligned(as: UInt32.self)
            let type = header & 0x1F
            let delta = UInt64(header &>> 5)
            let position = offset &+ 4
            if type != 0 && type <= dataMaxTypeLength {
                let size = Int(type &<< 2)
                guard position &+ size <= length else { break }
                timestamp &+= delta
                event = UnsafeRawBufferPointer(start: data + position, count: size)
                offset = position &+ size
                return true
            }
            guard position &+ 4 <= length else { break }
            let word = (data + position).loadUnaligned(as: UInt32.self)
            switch type {
            case 0:
                let size = (Int(word) &- 4 &+ 3) & ~3
                guard size >= 0, position &+ 4 &+ size <= length else { offset = length; return false }
                timestamp &+= delta
                event = UnsafeRawBufferPointer(start: data + (position &+ 4), count: size)
                offset = position &+ 4 &+ size
                return true
            case paddingType:
                // A discarded event or the unused end of the page; its delta counts, as libtraceevent's kbuffer has it.
                timestamp &+= delta
                offset = position &+ Int(word)
            case timeExtendType:
                timestamp &+= (UInt64(word) &<< UInt64(timeDeltaBits)) &+ delta
                offset = position &+ 4
            default:
                // An absolute time stamp holds the low 59 bits; the top ones stay.
                let topBits: UInt64 = 0xF8 << 56
                timestamp = ((UInt64(word) &<< UInt64(timeDeltaBits)) &+ delta) | (timestamp & topBits)
                offset = position &+ 4
            }
        }
        offset = length
        return false
    }
}
