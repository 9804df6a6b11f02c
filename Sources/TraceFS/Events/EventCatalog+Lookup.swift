/// Formats by event id and by name, kept true to what the kernel's ids mean now.
///
/// The kernel numbers events as it creates them and gives a destroyed event's id to the next one
/// created, so an id can change meaning while a catalog lives. A format handed out is confirmed
/// against its event's `id` file once per reading pass (``EventCatalog/allowCommandReload()``), not
/// per record; an id the catalog does not know is looked up among the events' `id` files and its
/// event learned from its `format` file.
extension EventCatalog {
    /// The format of records whose `common_type` is `id`, or `nil` when no event has that id.
    ///
    /// Thread-safe. A known id confirmed in this pass costs one uncontended lock and a dictionary
    /// lookup, and allocates nothing; readers keep the last format they got, so most records do not
    /// call this at all.
    func format(forEventID id: Int32) -> EventFormat? {
        let (format, confirmed) = known.withLock { state -> (EventFormat?, Bool) in
            if let entry = state.byID[id] { return (entry.format, entry.confirmedPass == state.pass) }
            guard let event = state.loadedByID.removeValue(forKey: id) else { return (nil, false) }
            // Parsed at load: confirmed then, which was before the first pass.
            let format = EventFormat(event)
            state.loadedByName[KnownEvents.key(format.system, format.name)] = nil
            state.byID[id] = KnownEvents.Entry(format: format, confirmedPass: 0)
            return (format, state.pass == 0)
        }
        if let format, confirmed { return format }
        return resolve(id, known: format)
    }

    /// The format of `system/name` as the kernel defines it now, or `nil` when there is no such event.
    func format(system: String, name: String) -> EventFormat? {
        let key = KnownEvents.key(system, name)
        let (format, confirmed) = known.withLock { state -> (EventFormat?, Bool) in
            if let id = state.idByName[key], let entry = state.byID[id] {
                return (entry.format, entry.confirmedPass == state.pass)
            }
            guard let event = state.loadedByName.removeValue(forKey: key) else { return (nil, false) }
            let format = EventFormat(event)
            state.loadedByID[format.id] = nil
            state.byID[format.id] = KnownEvents.Entry(format: format, confirmedPass: 0)
            state.idByName[key] = format.id
            return (format, state.pass == 0)
        }
        if let format, confirmed { return format }
        if let format, let resolved = resolve(format.id, known: format),
           resolved.system == system, resolved.name == name {
            return resolved
        }
        // Unknown, or recreated under another id: learn it from its format file.
        guard let learned = EventDefinitions.format(system: system, name: name, in: tracingDirectory) else { return nil }
        return known.withLock { state in
            state.learn(learned)
            return learned
        }
    }

    /// Confirms `format` as what `id` means, or finds and learns the event that has `id` now.
    private func resolve(_ id: Int32, known format: EventFormat?) -> EventFormat? {
        if let format {
            if EventDefinitions.id(system: format.system, name: format.name, in: tracingDirectory) == id {
                known.withLock { state in
                    if state.byID[id]?.format === format { state.byID[id]?.confirmedPass = state.pass }
                }
                return format
            }
            known.withLock { state in
                if state.byID[id]?.format === format { state.forget(id) }
            }
        }
        let (searched, everywhere) = known.withLock { state in
            (state.unresolved[id] == state.pass, !state.searchedEverywhere.contains(id))
        }
        if searched { return nil }
        guard let (system, name) = EventDefinitions.event(withID: id, in: tracingDirectory, everywhere: everywhere),
              let learned = EventDefinitions.format(system: system, name: name, in: tracingDirectory),
              learned.id == id
        else {
            known.withLock { state in
                state.unresolved[id] = state.pass
                if everywhere { state.searchedEverywhere.insert(id) }
            }
            return nil
        }
        return known.withLock { state in
            // Another thread may have learned it meanwhile: keep one format per id and pass.
            if let entry = state.byID[id], entry.confirmedPass == state.pass { return entry.format }
            state.learn(learned)
            return learned
        }
    }
}
