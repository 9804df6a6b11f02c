import Foundation
import TraceFS
import Yams

/// Reads a configuration file and checks every value, so that nothing is created in the kernel
/// unless the whole configuration is valid.
///
/// Lines come from Yams' `Node.Mark`: the file is composed into a node tree once, and a field's
/// path (from a `DecodingError`'s `codingPath`, or from the checks here) is walked down that tree;
/// a field that is missing is reported at its enclosing mapping.
public struct ConfigLoader {
    /// The file's path as the user gave it, used in messages.
    public let file: String
    /// The file's text.
    public let text: String
    private let root: Node?

    /// Reads `file`.
    /// - Throws: ``ConfigError`` when the file cannot be read or is not YAML.
    public init(file: String) throws(ConfigError) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigError(file: file, line: 0, column: 0, field: "",
                              message: "cannot read the configuration file; check the path and its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: file, line: 0, column: 0, field: "", message: "the file is not UTF-8 text")
        }
        try self.init(file: file, text: text)
    }

    /// Parses `text` as the contents of `file`.
    /// - Throws: ``ConfigError`` when the text is not YAML.
    public init(file: String, text: String) throws(ConfigError) {
        self.file = file
        self.text = text
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.yamlError(error, file: file)
        } catch {
            throw ConfigError(file: file, line: 0, column: 0, field: "", message: "not YAML: \(error)")
        }
    }

    /// Decodes and checks the configuration. Reads ELF files of uprobes by symbol, never the kernel.
    /// - Throws: ``ConfigError`` for the first problem found.
    public func load() throws(ConfigError) -> ExporterConfig {
        guard let root else { throw error(at: [], "the file is empty; it needs `probes:` and `metrics:`") }
        try checkKeys(root, schema: .config, path: [])
        let config: ExporterConfig
        do {
            config = try YAMLDecoder().decode(ExporterConfig.self, from: text)
        } catch let decoding as DecodingError {
            throw translate(decoding)
        } catch let yaml as YamlError {
            throw Self.yamlError(yaml, file: file)
        } catch {
            throw self.error(at: [], "cannot decode: \(error)")
        }
        try ConfigChecks(loader: self).check(config)
        return config
    }

    // MARK: - Errors with lines

    /// An error at `path`, with the line of the deepest node of the path that the file has.
    func error(at path: [ConfigPath], _ message: String) -> ConfigError {
        let mark = self.mark(of: path)
        return ConfigError(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0,
                           field: ConfigPath.text(path), message: message)
    }

    /// The position of the node at `path`, or of its nearest ancestor in the file.
    func mark(of path: [ConfigPath]) -> Mark? {
        guard var node = root else { return nil }
        var mark = node.mark
        for step in path {
            switch step {
            case .key(let key):
                guard let mapping = node.mapping,
                      let pair = mapping.first(where: { $0.key.string == key }) else { return mark }
                node = pair.value
                // A key's value that is empty or on the next line: point at the key.
                mark = pair.key.mark ?? node.mark
                if case .scalar = node { mark = node.mark ?? mark }
                if case .mapping = node { mark = pair.key.mark ?? mark }
                if case .sequence = node { mark = pair.key.mark ?? mark }
            case .index(let index):
                guard let sequence = node.sequence, index < sequence.count else { return mark }
                node = sequence[index]
                mark = node.mark ?? mark
            }
        }
        return mark
    }

    private func translate(_ error: DecodingError) -> ConfigError {
        func path(_ codingPath: [any CodingKey]) -> [ConfigPath] {
            codingPath.map { key in key.intValue.map { .index($0) } ?? .key(key.stringValue) }
        }
        switch error {
        case .keyNotFound(let key, let context):
            return self.error(at: path(context.codingPath) + [.key(key.stringValue)],
                              "missing; this field is required")
        case .typeMismatch(let type, let context):
            return self.error(at: path(context.codingPath), "expected \(Self.describe(type)): \(context.debugDescription)")
        case .valueNotFound(let type, let context):
            return self.error(at: path(context.codingPath), "expected \(Self.describe(type)), found nothing")
        case .dataCorrupted(let context):
            return self.error(at: path(context.codingPath), Self.corrupted(context))
        @unknown default:
            return self.error(at: [], "\(error)")
        }
    }

    private static func corrupted(_ context: DecodingError.Context) -> String {
        let text = context.debugDescription
        if text.contains("cannot initialize") || text.contains("Cannot initialize") {
            return "invalid value (\(text)); check the type and that the number fits"
        }
        return text
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is UInt64.Type, is UInt32.Type: "a non-negative integer"
        case is Int.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default:
            String(describing: type).hasPrefix("Array") ? "a list" : "a mapping"
        }
    }

    private static func yamlError(_ error: YamlError, file: String) -> ConfigError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _):
            return ConfigError(file: file, line: mark.line, column: mark.column, field: "", message: "not valid YAML: \(problem)")
        case .composer(_, let problem, let mark, _):
            return ConfigError(file: file, line: mark.line, column: mark.column, field: "", message: "not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ConfigError(file: file, line: context.mark.line, column: context.mark.column, field: duplicates.first ?? "",
                               message: "this key appears more than once in the mapping")
        default:
            return ConfigError(file: file, line: 0, column: 0, field: "", message: "not valid YAML: \(error)")
        }
    }

    // MARK: - Unknown keys

    indirect enum Schema: Sendable {
        case mapping([String: Schema])
        case sequence(Schema)
        case scalar
        case anyMapping

        static let filter = Schema.mapping(["field": .scalar, "op": .scalar, "value": .scalar])
        static let label = Schema.mapping(["name": .scalar, "field": .scalar, "static_map": .anyMapping,
                                           "regexp": .sequence(.scalar)])
        static let probe = Schema.mapping(Dictionary(uniqueKeysWithValues: Probe.keys.map { key in
            (key, key == "fetch_args" ? Schema.sequence(.scalar) : key == "filters" ? .sequence(.filter) : .scalar)
        }))
        static let counter = Schema.mapping(["name": .scalar, "help": .scalar, "probe": .scalar,
                                             "labels": .sequence(.label)])
        static let latency = Schema.mapping(Dictionary(uniqueKeysWithValues: Latency.keys.map { ($0, Schema.scalar) }))
        static let histogram = Schema.mapping(Dictionary(uniqueKeysWithValues: HistogramMetric.keys.map { key in
            (key, key == "latency" ? Schema.latency : key == "labels" ? .sequence(.label) : .scalar)
        }))
        static let config = Schema.mapping([
            "probes": .sequence(.probe),
            "metrics": .mapping(["counters": .sequence(.counter), "histograms": .sequence(.histogram)]),
        ])
    }

    /// Refuses keys the schema does not know (the decoder would ignore them silently), so that a
    /// misspelt `fetch_arg` is an error rather than a probe without arguments.
    private func checkKeys(_ node: Node, schema: Schema, path: [ConfigPath]) throws(ConfigError) {
        switch (schema, node) {
        case (.mapping(let fields), .mapping(let mapping)):
            for (key, value) in mapping {
                guard let name = key.string, let child = fields[name] else {
                    let known = fields.keys.sorted().joined(separator: ", ")
                    let mark = key.mark
                    throw ConfigError(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0,
                                      field: ConfigPath.text(path + [.key(key.string ?? "?")]),
                                      message: "unknown key; known keys here: \(known)")
                }
                try checkKeys(value, schema: child, path: path + [.key(name)])
            }
        case (.sequence(let element), .sequence(let sequence)):
            for (index, value) in sequence.enumerated() {
                try checkKeys(value, schema: element, path: path + [.index(index)])
            }
        case (.anyMapping, .mapping(let mapping)):
            for (key, value) in mapping {
                guard case .scalar = value, key.string != nil else {
                    throw error(at: path + [.key(key.string ?? "?")], "expected a string to string mapping")
                }
            }
        default:
            break  // Type mismatches are the decoder's to report.
        }
    }
}
