import CTraceFS

/// For ``RecordOrder/libtracefsIterate``: what the C callback of `tracefs_iterate_raw_events` reaches through its context pointer during
/// one pass of a ``RecordReader``: the body, a one-entry format cache, and how the pass ended.
///
/// The per-record path retains nothing: the callback borrows this object (`RecordReader.read` keeps
/// it alive for the whole pass), `body` is a constant, and the reader, the catalog and the cached
/// format are held unowned: the reader is running `read` for the whole pass, it holds the catalog,
/// and the catalog's cache holds every format it has handed out.
final class RecordCallback {
    typealias Body = (borrowing Record) throws -> IterationAction

    let body: Body
    unowned(unsafe) let reader: RecordReader
    let catalog: Unmanaged<EventCatalog>
    /// What `body` threw, which ended the pass.
    private(set) var failure: (any Error)?
    /// Whether `body` or a stop request ended the pass (rather than the buffers running empty).
    private(set) var stopped = false
    /// Records handed to `body`.
    private(set) var delivered = 0
    private var lastEvent: UnsafeMutablePointer<tep_event>?
    private var lastFormat: Unmanaged<EventFormat>?

    init(reader: RecordReader, body: @escaping Body) {
        self.body = body
        self.reader = reader
        catalog = Unmanaged.passUnretained(reader.catalog)
    }

    /// One record. Returns non-zero to stop libtracefs's iteration.
    func handle(_ event: UnsafeMutablePointer<tep_event>, _ record: UnsafeMutablePointer<tep_record>, cpu: Int32) -> Int32 {
        if reader.stopRequested.load(ordering: .relaxed) {
            stopped = true
            return 1
        }
        let format: Unmanaged<EventFormat>
        if event == lastEvent, let lastFormat {
            format = lastFormat
        } else {
            format = Unmanaged.passUnretained(catalog.takeUnretainedValue().format(for: event))
            lastEvent = event
            lastFormat = format
        }
        delivered += 1
        do {
            if try body(Record(format: format, record: record, cpu: cpu, catalog: catalog)) == .stop {
                stopped = true
                return 1
            }
            return 0
        } catch {
            failure = error
            stopped = true
            return 1
        }
    }

    /// The C function handed to libtracefs, with an unretained `RecordCallback` as its context.
    static let function: @convention(c) (
        UnsafeMutablePointer<tep_event>?, UnsafeMutablePointer<tep_record>?, Int32, UnsafeMutableRawPointer?
    ) -> Int32 = { event, record, cpu, context in
        guard let event, let record, let context else { return 0 }
        return Unmanaged<RecordCallback>.fromOpaque(context)._withUnsafeGuaranteedRef {
            $0.handle(event, record, cpu: cpu)
        }
    }
}
