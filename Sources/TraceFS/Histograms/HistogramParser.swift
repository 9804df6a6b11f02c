/// Reads the kernel's `hist` file line by line (kernel/trace/trace_events_hist.c,
/// `hist_trigger_show` and `hist_trigger_print_key`).
struct HistogramParser {
    let lines: [Substring]
    let stringFields: Set<String>
    var index = 0

    init(lines: [Substring], stringFields: Set<String>) {
        self.lines = lines
        self.stringFields = stringFields
    }

    private func failure(_ reason: String) -> TraceFSError {
        TraceFSError(.decodingFailed, operation: "parse a histogram",
                     reason: "line \(index + 1): \(reason)")
    }

    mutating func tables() throws(TraceFSError) -> [HistogramTable] {
        var tables: [HistogramTable] = []
        while index < lines.count {
            let line = lines[index]
            if line.hasPrefix("# trigger info: ") {
                tables.append(try table(info: line.dropFirst("# trigger info: ".count)))
            } else {
                index += 1
            }
        }
        return tables
    }

    private mutating func table(info: Substring) throws(TraceFSError) -> HistogramTable {
        var trigger = info
        var isPaused = false
        if trigger.hasSuffix(" [active]") {
            trigger = trigger.dropLast(" [active]".count)
        } else if trigger.hasSuffix(" [paused]") {
            trigger = trigger.dropLast(" [paused]".count)
            isPaused = true
        }
        let definition = trigger.split(separator: " ", maxSplits: 1).first ?? trigger
        var specs: [HistogramKeySpec] = []
        var hexValues: Set<String> = []
        for part in definition.split(separator: ":") {
            if part.hasPrefix("keys=") {
                specs = part.dropFirst(5).split(separator: ",").map(HistogramKeySpec.init)
            } else if part.hasPrefix("vals=") {
                for value in part.dropFirst(5).split(separator: ",") where value.hasSuffix(".hex") {
                    hexValues.insert(String(value.dropLast(4)))
                }
            }
        }
        guard !specs.isEmpty else { throw failure("the trigger '\(trigger)' names no keys") }
        index += 1
        var rows: [HistogramRow] = []
        while index < lines.count {
            let line = lines[index]
            if line.hasPrefix("{ ") {
                rows.append(try row(specs: specs, hexValues: hexValues))
            } else if line == "Totals:" {
                index += 1
                return HistogramTable(trigger: String(trigger), keys: specs, isPaused: isPaused, rows: rows,
                                      totals: try totals())
            } else if line.hasPrefix("# trigger info: ") {
                break
            } else {
                index += 1
            }
        }
        throw failure("the histogram of '\(trigger)' has no totals")
    }

    private mutating func totals() throws(TraceFSError) -> HistogramTotals {
        var numbers: [String: UInt64] = [:]
        while index < lines.count {
            let words = lines[index].split(separator: " ")
            guard words.count == 2, words[0].hasSuffix(":"), let number = UInt64(words[1]) else { break }
            numbers[String(words[0].dropLast())] = number
            index += 1
        }
        guard let hits = numbers["Hits"], let entries = numbers["Entries"], let dropped = numbers["Dropped"] else {
            throw failure("the totals lack Hits, Entries or Dropped")
        }
        return HistogramTotals(hits: hits, entries: entries, dropped: dropped)
    }

    /// One row: "{ key: value, key: value } hitcount: 1  bytes: 2", or a stack trace over several
    /// lines ending in "} hitcount: ...".
    private mutating func row(specs: [HistogramKeySpec], hexValues: Set<String>) throws(TraceFSError) -> HistogramRow {
        let first = lines[index]
        var keyText: Substring
        var valueText: Substring
        var frames: [String] = []
        if specs.contains(where: { $0.field == "stacktrace" || $0.field == "common_stacktrace" }),
           first.hasSuffix("stacktrace:") {
            keyText = first.dropFirst(2)
            index += 1
            while index < lines.count, !lines[index].hasPrefix("}") {
                let frame = lines[index].drop(while: { $0 == " " || $0 == "\t" })
                if !frame.isEmpty { frames.append(String(frame)) }
                index += 1
            }
            guard index < lines.count else { throw failure("a stack trace does not end") }
            valueText = lines[index].dropFirst()
        } else {
            // Values are numbers: the last '}' closes the keys, whatever a string key holds.
            guard let close = first.lastIndex(of: "}") else { throw failure("a row has no closing '}'") }
            keyText = first[first.index(first.startIndex, offsetBy: 2)..<close]
            valueText = first[first.index(after: close)...]
        }
        index += 1
        var keys: [HistogramKey] = []
        for (position, spec) in specs.enumerated() {
            let label = "\(spec.field): "
            guard keyText.hasPrefix(label) else {
                if spec.field.hasSuffix("stacktrace") {
                    keys.append(HistogramKey(field: spec.field, value: .stackTrace(frames)))
                    keyText = keyText.drop(while: { $0 != "," })
                    continue
                }
                throw failure("expected key '\(spec.field)' in '\(keyText)'")
            }
            var raw = keyText.dropFirst(label.count)
            if position + 1 < specs.count, let next = raw.firstRange(of: ", \(specs[position + 1].field): ") {
                keyText = raw[raw.index(next.lowerBound, offsetBy: 2)...]
                raw = raw[..<next.lowerBound]
            } else {
                keyText = ""
            }
            if spec.field.hasSuffix("stacktrace") {
                keys.append(HistogramKey(field: spec.field, value: .stackTrace(frames)))
            } else {
                keys.append(HistogramKey(field: spec.field, value: try key(raw, spec)))
            }
        }
        let words = valueText.split(separator: " ")
        var values: [HistogramValue] = []
        var position = 0
        while position + 1 < words.count {
            guard words[position].hasSuffix(":") else { throw failure("a value has no name in '\(valueText)'") }
            let name = String(words[position].dropLast())
            guard let number = UInt64(words[position + 1], radix: hexValues.contains(name) ? 16 : 10) else {
                throw failure("value '\(name)' is not a number: '\(words[position + 1])'")
            }
            values.append(HistogramValue(name: name, value: number))
            position += 2
        }
        return HistogramRow(keys: keys, values: values)
    }

    private func key(_ raw: Substring, _ spec: HistogramKeySpec) throws(TraceFSError) -> HistogramKeyValue {
        let text = raw.trimmingSpaces
        switch spec.modifier {
        case "execname", "syscall":
            guard let open = text.lastIndex(of: "["), text.hasSuffix("]"),
                  let number = Int(text[text.index(after: open)..<text.index(before: text.endIndex)].trimmingSpaces)
            else { throw failure("'\(text)' is not 'name [number]'") }
            let name = String(text[..<open].trimmingSpaces)
            return spec.modifier == "execname"
                ? .execname(command: name, pid: Int32(truncatingIfNeeded: number)) : .syscall(name: name, number: number)
        case "sym", "sym-offset":
            guard text.hasPrefix("["), let close = text.firstIndex(of: "]"),
                  let address = UInt64(text[text.index(after: text.startIndex)..<close], radix: 16)
            else { throw failure("'\(text)' is not '[address] symbol'") }
            var symbol = text[text.index(after: close)...].trimmingSpaces
            var module: String?
            if symbol.hasSuffix("]"), let open = symbol.lastIndex(of: "[") {
                module = String(symbol[symbol.index(after: open)..<symbol.index(before: symbol.endIndex)])
                symbol = symbol[..<open].trimmingSpaces
            }
            guard spec.modifier == "sym-offset" else {
                return .symbol(address: address, name: String(symbol), module: module)
            }
            guard let plus = symbol.lastIndex(of: "+"), let slash = symbol.lastIndex(of: "/"), plus < slash,
                  let offset = UInt64(hexNumber: symbol[symbol.index(after: plus)..<slash]),
                  let size = UInt64(hexNumber: symbol[symbol.index(after: slash)...])
            else {
                // An address the kernel could not name prints as the bare address.
                return .symbolOffset(address: address, name: String(symbol), offset: 0, size: 0, module: module)
            }
            return .symbolOffset(address: address, name: String(symbol[..<plus]), offset: offset, size: size, module: module)
        case "log2":
            guard text.hasPrefix("~ 2^"), let exponent = Int(text.dropFirst(4)) else {
                throw failure("'\(text)' is not a log2 bucket '~ 2^n'")
            }
            return .log2(exponent: exponent)
        case "buckets":
            let bounds = text.dropFirst(2).split(separator: "-")
            guard text.hasPrefix("~ "), bounds.count == 2, let lower = UInt64(bounds[0]), let upper = UInt64(bounds[1]) else {
                throw failure("'\(text)' is not a linear bucket '~ low-high'")
            }
            return .bucket(lower: lower, upper: upper)
        case "hex":
            guard let value = UInt64(text, radix: 16) else { throw failure("'\(text)' is not hexadecimal") }
            return .hex(value)
        default:
            // Numbers are right-aligned ("%10llu"), strings left-aligned ("%-50s").
            if !stringFields.contains(spec.field), raw.first == " " || raw.count >= 10, let value = UInt64(text) {
                return .number(value)
            }
            return .string(String(raw.trimmingTrailingSpaces))
        }
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        drop(while: { $0 == " " }).trimmingTrailingSpaces
    }

    var trimmingTrailingSpaces: Substring {
        var text = self
        while text.last == " " { text = text.dropLast() }
        return text
    }
}

extension UInt64 {
    /// "0x1f" or "1f".
    init?(hexNumber text: Substring) {
        self.init(text.hasPrefix("0x") ? text.dropFirst(2) : text, radix: 16)
    }
}
