/// Checks a synthetic event's fields against the start and end events' formats before anything is
/// written.
struct SyntheticCheck {
    let start: EventFormat
    let end: EventFormat
    let operation: String

    /// Fields the kernel's histograms add to every event.
    static let pseudoFields: Set<String> = ["common_timestamp", "common_timestamp.usecs", "common_cpu"]

    private func invalid(_ reason: String) -> TraceFSError {
        TraceFSError(.invalidArgument, operation: operation, reason: reason)
    }

    private func kind(_ name: String, in format: EventFormat) throws(TraceFSError) -> EventField.Kind {
        if let field = format.field(named: name) { return field.kind }
        if Self.pseudoFields.contains(name) { return .unsignedInteger }
        throw invalid("event \(format) has no field \(ProbeInput.display(name)); its fields are: "
            + format.fields.map(\.name).joined(separator: ", ") + "; also common_pid and common_timestamp")
    }

    private func checkName(_ name: String?) throws(TraceFSError) {
        guard let name else { return }
        try ProbeInput(operation: operation).name(name, as: "synthetic field")
    }

    func matches(_ matches: [SyntheticEvent.Match]) throws(TraceFSError) {
        guard !matches.isEmpty else {
            throw invalid("a synthetic event needs at least one pair of matching fields (such as the pid in both events)")
        }
        for match in matches {
            let startKind = try kind(match.startField, in: start)
            let endKind = try kind(match.endField, in: end)
            let isString = { (kind: EventField.Kind) in kind == .string || kind == .dynamicString }
            guard isString(startKind) == isString(endKind) else {
                throw invalid("match fields '\(match.startField)' and '\(match.endField)' are not both numbers or both strings")
            }
            try checkName(match.name)
        }
    }

    func selections(_ selections: [SyntheticEvent.Selection], in format: EventFormat) throws(TraceFSError) {
        for selection in selections {
            _ = try kind(selection.field, in: format)
            try checkName(selection.name)
        }
    }

    func difference(_ difference: SyntheticEvent.Difference) throws(TraceFSError) {
        for (field, format) in [(difference.startField, start), (difference.endField, end)] {
            let kind = try self.kind(field, in: format)
            guard kind == .signedInteger || kind == .unsignedInteger else {
                throw invalid("a difference needs numbers; field '\(field)' of \(format) is not one")
            }
        }
        try checkName(difference.name)
    }
}
