/// A configuration the exporter refuses: where (file, line, column, field) and why.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configuration file's path as given.
    public let file: String
    /// The line (from 1) of the field, or of the nearest enclosing mapping the YAML has; 0 when unknown.
    public let line: Int
    /// The column (from 1), 0 when unknown.
    public let column: Int
    /// The field as a path: `probes[1].fetch_args[0]`; empty for the whole file.
    public let field: String
    /// What is wrong and what to do.
    public let message: String

    public init(file: String, line: Int, column: Int, field: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.field = field
        self.message = message
    }

    /// "exporter.yaml:12:7: probes[0].symbol: ..." (control characters of the message escaped).
    public var description: String {
        "\(file):\(line):\(column): \(field.isEmpty ? "(file)" : field): \(ConfigError.printable(message))"
    }

    /// The text with control characters shown as escapes, so that a hostile value cannot forge lines.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value):
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// One step of a field's path in the configuration.
public enum ConfigPath: Sendable, Hashable, CustomStringConvertible {
    case key(String)
    case index(Int)

    public var description: String {
        switch self {
        case .key(let key): key
        case .index(let index): "[\(index)]"
        }
    }

    static func text(_ path: [ConfigPath]) -> String {
        var out = ""
        for step in path {
            switch step {
            case .key(let key): out += out.isEmpty ? key : "." + key
            case .index: out += step.description
            }
        }
        return out
    }
}
