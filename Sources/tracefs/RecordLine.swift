import TraceFS

/// A record as a `trace_pipe` line or a JSON object.
enum RecordLine {
    /// `comm-pid [cpu] seconds.micros: event: name=value ...`, laid out as the kernel's
    /// `trace_pipe` lays it out (without its flags column); strings are quoted.
    static func text(_ record: borrowing Record) -> String {
        let format = record.format
        let who = (record.command ?? "<...>").leftPadding(toLength: 16) + "-" + String(record.pid).padding(toLength: 7)
        let cpu = String(record.cpu)
        var line = who + " [" + String(repeating: "0", count: max(0, 3 - cpu.count)) + cpu + "] "
            + seconds(record.timestamp).leftPadding(toLength: 12) + ": " + format.name + ":"
        for field in format.fields {
            guard let value = record.value(field.name) else { continue }
            line += " " + field.name + "="
            switch value {
            case .string(let text): line += "\"" + text + "\""
            // The probe's own addresses, in hexadecimal as the kernel shows them.
            case .unsigned(let address) where field.name.hasPrefix("__probe"): line += "0x" + String(address, radix: 16)
            default: line += value.description
            }
        }
        return line
    }

    /// One JSON object: `time` (seconds, as in the text), `timestamp_ns`, `cpu`, `pid`, `comm`,
    /// `system`, `event`, and `fields` with numbers as numbers and strings as strings (byte
    /// arrays as arrays of numbers).
    static func json(_ record: borrowing Record) -> String {
        let format = record.format
        var object = JSONObject()
        object.add("time", json: seconds(record.timestamp))
        object.add("timestamp_ns", number: record.timestamp)
        object.add("cpu", number: record.cpu)
        object.add("pid", number: Int64(record.pid))
        object.add("comm", string: record.command ?? "<...>")
        object.add("system", string: format.system)
        object.add("event", string: format.name)
        var fields = JSONObject()
        for field in format.fields {
            guard let value = record.value(field.name) else { continue }
            switch value {
            case .signed(let number): fields.add(field.name, number: number)
            case .unsigned(let number): fields.add(field.name, number: number)
            case .string(let text): fields.add(field.name, string: text)
            case .bytes(let bytes): fields.add(field.name, json: "[" + bytes.map(String.init).joined(separator: ",") + "]")
            }
        }
        object.add("fields", json: fields.text)
        return object.text
    }

    /// Nanoseconds as `seconds.micros`.
    static func seconds(_ nanoseconds: UInt64) -> String {
        let micros = String(nanoseconds / 1000 % 1_000_000)
        return String(nanoseconds / 1_000_000_000) + "." + String(repeating: "0", count: 6 - micros.count) + micros
    }
}
