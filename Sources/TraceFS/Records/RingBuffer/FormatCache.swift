/// The formats of the event ids one pass of a ``PageWalk`` meets: the catalog's answer for each
/// id, `nil` for ids it does not know (such records are skipped). Each pass asks the catalog again:
/// it learns new ids and confirms once per pass that an id still means the same event (the kernel
/// reuses the ids of destroyed events).
///
/// Only the first record of each id in a run reaches this (``PageRun`` keeps the last id and
/// format), so a dictionary is fine here.
@usableFromInline
final class FormatCache {
    @usableFromInline let catalog: Unmanaged<EventCatalog>
    private var formats: [Int32: Unmanaged<EventFormat>?] = [:]

    /// Held unretained: the reader that owns the walk holds the catalog for the whole read.
    init(catalog: EventCatalog) {
        self.catalog = Unmanaged.passUnretained(catalog)
    }

    func forget() {
        formats.removeAll(keepingCapacity: true)
    }

    /// The format of `id`, unretained: the catalog's cache keeps every format it handed out.
    @usableFromInline
    func format(forID id: Int32) -> Unmanaged<EventFormat>? {
        if let known = formats[id] { return known }
        let found = catalog.takeUnretainedValue().format(forEventID: id).map { Unmanaged.passUnretained($0) }
        formats[id] = found
        return found
    }
}
