/// Formats by event id and by name, kept true to what the kernel's ids mean now.
///
/// The kernel numbers events as it creates them, and recent kernels give a destroyed event's id to
/// the next one created, so an id can change meaning while a catalog lives. A format handed out is
/// confirmed against its event's `id` file once per reading pass (``EventCatalog/allowCommandReload()``),
/// not per record; an id the catalog does not know is looked up among the events' `id` files and
/// its event learned from its `format` file.
extension EventCatalog {
    /// The format of records whose `common_type` is `id`, or `nil` when no event has that id.
    ///
    /// Thread-safe. A known id already confirmed in this pass takes four atomic loads and a retain:
    /// no lock, no allocation, no hashing.
    func format(forEventID id: Int32) -> EventFormat? {
        if let entry = slots.entry(id),
           entry.confirmedPass.load(ordering: .relaxed) == pass.load(ordering: .relaxed) {
            return entry.format
        }
        return formatConfirming(id)
    }

    /// The slow path of ``format(forEventID:)``: confirms, loads or learns what `id` means.
    private func formatConfirming(_ id: Int32) -> EventFormat? {
        let current = pass.load(ordering: .relaxed)
        let (format, confirmed) = known.withLock { state -> (EventFormat?, Bool) in
            if let entry = state.byID[id] { return (entry.format, entry.confirmedPass.load(ordering: .relaxed) == current) }
            guard let event = state.loadedByID.removeValue(forKey: id) else { return (nil, false) }
            // Parsed at load, which was before the first pass.
            let format = EventFormat(event)
            state.loadedByName[KnownEvents.key(format.system, format.name)] = nil
            state.learn(format, confirmedIn: 0)
            return (format, current == 0)
        }
        if let format, confirmed { return format }
        return resolve(id, known: format)
    }

    /// The format of `system/name` as the kernel defines it now, or `nil` when there is no such event.
    func format(system: String, name: String) -> EventFormat? {
        let key = KnownEvents.key(system, name)
        let current = pass.load(ordering: .relaxed)
        let (format, confirmed) = known.withLock { state -> (EventFormat?, Bool) in
            if let id = state.idByName[key], let entry = state.byID[id] {
                return (entry.format, entry.confirmedPass.load(ordering: .relaxed) == current)
            }
            guard let event = state.loadedByName.removeValue(forKey: key) else { return (nil, false) }
            let format = EventFormat(event)
            state.loadedByID[format.id] = nil
            state.learn(format, confirmedIn: 0)
            return (format, current == 0)
        }
        if let format, confirmed { return format }
        if let format, let resolved = resolve(format.id, known: format),
           resolved.system == system, resolved.name == name {
            return resolved
        }
        // Unknown, or recreated under another id: learn it from its format file.
        guard let learned = EventDefinitions.format(system: system, name: name, in: tracingDirectory) else { return nil }
        return known.withLock { state in
            state.learn(learned, confirmedIn: pass.load(ordering: .relaxed))
            return learned
        }
    }

    /// Confirms `format` as what `id` means, or finds and learns the event that has `id` now.
    private func resolve(_ id: Int32, known format: EventFormat?) -> EventFormat? {
        let current = pass.load(ordering: .relaxed)
        if let format {
            if EventDefinitions.id(system: format.system, name: format.name, in: tracingDirectory) == id {
                known.withLock { state in
                    if let entry = state.byID[id], entry.format === format {
                        entry.confirmedPass.store(current, ordering: .relaxed)
                    }
                }
                return format
            }
            known.withLock { state in
                if state.byID[id]?.format === format { state.forget(id) }
            }
        }
        let (searched, everywhere) = known.withLock { state in
            (state.unresolved[id] == current, !state.searchedEverywhere.contains(id))
        }
        if searched { return nil }
        guard let (system, name) = EventDefinitions.event(withID: id, in: tracingDirectory, everywhere: everywhere),
              let learned = EventDefinitions.format(system: system, name: name, in: tracingDirectory),
              learned.id == id
        else {
            known.withLock { state in
                state.unresolved[id] = current
                if everywhere { state.searchedEverywhere.insert(id) }
            }
            return nil
        }
        return known.withLock { state in
            // Another thread may have learned it meanwhile: keep one format per id and pass.
            if let entry = state.byID[id], entry.confirmedPass.load(ordering: .relaxed) == current { return entry.format }
            state.learn(learned, confirmedIn: current)
            return learned
        }
    }
}
