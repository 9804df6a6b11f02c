import CTraceFS

/// What an ``EventCatalog`` knows about event ids, behind its lock: the formats it has handed out,
/// which pass last confirmed each against the kernel, and what the libtraceevent handle parsed at load.
/// Every change to `byID` is mirrored in `slots`, where readers find formats without the lock.
struct KnownEvents {
    typealias Entry = FormatSlots.Entry

    /// The formats handed out, by id. A record read with an unconfirmed entry first rereads the
    /// event's `id` file (once per id per pass), since the kernel gives destroyed events' ids to new ones.
    private(set) var byID: [Int32: Entry] = [:]
    let slots: FormatSlots
    /// The id each "system/name" had when its format was made.
    var idByName: [String: Int32] = [:]
    /// Formats that no longer describe their id. Records and batches hold formats unretained, so
    /// every format handed out lives as long as the catalog.
    var retired: [EventFormat] = []
    /// Ids searched for in vain, with the pass of the search: searched again in a later pass only.
    var unresolved: [Int32: UInt64] = [:]
    /// Ids for which every system was searched: later passes search the dynamic events' groups only.
    var searchedEverywhere: Set<Int32> = []
    /// The events libtraceevent parsed when the catalog was loaded, by id and by "system/name".
    /// Their formats are made on first use, when the entry is moved to `byID`.
    var loadedByID: [Int32: UnsafeMutablePointer<tep_event>]
    var loadedByName: [String: UnsafeMutablePointer<tep_event>]

    init(handle: OpaquePointer, slots: FormatSlots) {
        self.slots = slots
        var byID: [Int32: UnsafeMutablePointer<tep_event>] = [:]
        var byName: [String: UnsafeMutablePointer<tep_event>] = [:]
        for index in 0..<tep_get_events_count(handle) {
            guard let event = tep_get_event(handle, index) else { continue }
            byID[event.pointee.id] = event
            byName[Self.key(String(cString: event.pointee.system), String(cString: event.pointee.name))] = event
        }
        loadedByID = byID
        loadedByName = byName
    }

    static func key(_ system: String, _ name: String) -> String { system + "/" + name }

    /// Records `format` as what its id and name are now, confirmed in `pass`, retiring what they were.
    mutating func learn(_ format: EventFormat, confirmedIn pass: UInt64) {
        let key = Self.key(format.system, format.name)
        if let old = byID[format.id], old.format !== format { retired.append(old.format) }
        let entry = Entry(format: format, confirmedPass: pass)
        byID[format.id] = entry
        slots.store(entry, for: format.id)
        idByName[key] = format.id
        unresolved[format.id] = nil
    }

    /// Forgets what `id` was (its event is gone or has another id).
    mutating func forget(_ id: Int32) {
        guard let old = byID.removeValue(forKey: id) else { return }
        slots.store(nil, for: id)
        retired.append(old.format)
        let key = Self.key(old.format.system, old.format.name)
        if idByName[key] == id { idByName[key] = nil }
    }
}

// Sendable: it lives behind the catalog's lock (`slots` is Sendable itself). The `tep_event`s it
// points to were parsed at load; they are only read (libtraceevent's lookups write the handle, never
// an event) and live as long as the catalog's handle, which outlives this value.
extension KnownEvents: @unchecked Sendable {}
