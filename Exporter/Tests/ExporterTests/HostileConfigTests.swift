import ExporterCore
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Hostile strings in every field of a configuration (compare the main package's
/// `HostileInputs`): newlines that would start a second probe definition, `-:` that would remove
/// one, `#` that starts a comment in the kernel's parser, control, C1 and bidirectional
/// characters, NUL, quotes, shell and filter syntax, non-ASCII, empty and overlong strings.
enum HostileStrings {
    static let all: [String] = [
        "", " ", "a b", "x\n", "\nmalloc", "mal\nloc", "malloc\n-:uprobes/x", "\np:swtest_evil/evil /bin/true:0x10",
        "\n-:uprobes/x", "a\u{0}b", "\u{0}", "\u{7F}", "\u{1B}[31m", "x\u{85}y", "x\u{2028}y", "\u{202E}x", "x\u{FEFF}",
        "é", "日本", "#", "x#y", " #x", ":0x10#", "x\ty", "x\r", "x;y", "x'y", "x\"y", "\"", "'", "$x", "$(id)", "`id`",
        "x%y", "%", "(x", ")", "x/y", "/", "-:x", "..", "\\n", "x\\", "{x}", "[x]", "*", "&&", "||", "!x", "===",
        String(repeating: "n", count: 5000),
    ]

    /// `text` as a YAML double-quoted scalar, so that the decoder hands over exactly `text`.
    static func yaml(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028
                || scalar.value == 0x2029 || scalar.value == 0xFEFF || (0x202A...0x202E).contains(scalar.value):
                out += String(format: "\\u%04X", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

@Suite("Hostile configurations")
struct HostileConfigTests {
    /// One field of the template: its path in errors, and its line.
    struct Field: CustomStringConvertible, Sendable {
        let path: String
        let line: Int
        /// Free text (help, a regular expression, a static_map value), where a hostile string
        /// may be valid; everywhere else each must be refused.
        let freeText: Bool
        var description: String { path }
    }

    /// A configuration that loads, with one `{{path}}` slot per field (each on a line of its own).
    static let template: [(String, String?)] = [
        ("probes:", nil),
        ("  - name: {{}}", "malloc|probes[0].name"),
        ("    type: {{}}", "uprobe|probes[0].type"),
        ("    file: {{}}", "\(ConfigTests.libc)|probes[0].file"),
        ("    symbol: {{}}", "malloc|probes[0].symbol"),
        ("    offset: {{}}", "0|probes[0].offset"),
        ("    fetch_args:", nil),
        ("      - {{}}", "size=%di:u64|probes[0].fetch_args[0]"),
        ("    filters:", nil),
        ("      - field: {{}}", "size|probes[0].filters[0].field"),
        ("        op: {{}}", ">|probes[0].filters[0].op"),
        ("        value: {{}}", "16|probes[0].filters[0].value"),
        ("  - name: opens", nil),
        ("    type: kprobe", nil),
        ("    address: {{}}", "do_sys_openat2|probes[1].address"),
        ("metrics:", nil),
        ("  counters:", nil),
        ("    - name: {{}}", "malloc_total|metrics.counters[0].name"),
        ("      help: {{}}", "Calls of malloc|*metrics.counters[0].help"),
        ("      probe: {{}}", "malloc|metrics.counters[0].probe"),
        ("      labels:", nil),
        ("        - name: {{}}", "comm|metrics.counters[0].labels[0].name"),
        ("          field: {{}}", "common_pid.execname|metrics.counters[0].labels[0].field"),
        ("          regexp:", nil),
        ("            - {{}}", "^ls$|*metrics.counters[0].labels[0].regexp[0]"),
        ("          static_map:", nil),
        ("            bash: {{}}", "shell|*metrics.counters[0].labels[0].static_map.bash"),
        ("  histograms:", nil),
        ("    - name: {{}}", "malloc_bytes|metrics.histograms[0].name"),
        ("      probe: {{}}", "malloc|metrics.histograms[0].probe"),
        ("      field: {{}}", "size|metrics.histograms[0].field"),
        ("      bucket_type: {{}}", "exp2|metrics.histograms[0].bucket_type"),
        ("      bucket_max: {{}}", "30|metrics.histograms[0].bucket_max"),
        ("      bucket_multiplier: {{}}", "1|metrics.histograms[0].bucket_multiplier"),
        ("    - name: read_latency_seconds", nil),
        ("      latency:", nil),
        ("        function: {{}}", "vfs_read|metrics.histograms[1].latency.function"),
        ("        unit: {{}}", "microseconds|metrics.histograms[1].latency.unit"),
        ("      bucket_type: exp2", nil),
        ("    - name: malloc_latency_seconds", nil),
        ("      latency:", nil),
        ("        file: {{}}", "\(ConfigTests.libc)|metrics.histograms[2].latency.file"),
        ("        symbol: {{}}", "malloc|metrics.histograms[2].latency.symbol"),
        ("      bucket_type: exp2", nil),
    ]

    static let fields: [Field] = template.enumerated().compactMap { index, entry in
        guard let slot = entry.1 else { return nil }
        var path = String(slot.split(separator: "|", maxSplits: 1)[1])
        let freeText = path.hasPrefix("*")
        if freeText { path.removeFirst() }
        return Field(path: path, line: index + 1, freeText: freeText)
    }

    /// The template with `value` (YAML-quoted) at `field` and the good values elsewhere.
    static func config(_ field: Field?, _ value: String) -> String {
        template.enumerated().map { index, entry in
            guard let slot = entry.1 else { return entry.0 }
            let good = String(slot.split(separator: "|", maxSplits: 1)[0])
            // Good numbers stay plain scalars (a quoted one is a string to the decoder).
            let text = index + 1 == field?.line ? HostileStrings.yaml(value)
                : Double(good) != nil ? good : HostileStrings.yaml(good)
            return entry.0.replacingOccurrences(of: "{{}}", with: text)
        }.joined(separator: "\n") + "\n"
    }

    static func load(_ text: String) -> Result<ExporterConfig, ConfigError> {
        Result { () throws(ConfigError) in try ConfigLoader(file: "hostile.yaml", text: text).load() }
    }

    @Test("the template itself loads")
    func templateLoads() throws {
        _ = try Self.load(Self.config(nil, "")).get()
    }

    /// Loading touches no kernel (it reads libc's symbols and /proc/kallsyms): the host runs these;
    /// under TCG the 1,400 loads of a debug build would take most of a boot.
    static let onHost = ConditionTrait.enabled(if: !KernelGate.inGuest, "pure parsing, run on the host")

    @Test("a hostile string in any field is refused at that field's file, line and name", onHost, arguments: fields)
    func everyField(field: Field) throws {
        var accepted: [String] = []
        for value in HostileStrings.all {
            switch Self.load(Self.config(field, value)) {
            case .success:
                accepted.append(value)
            case .failure(let error):
                #expect(error.file == "hostile.yaml")
                #expect(error.line == field.line, "\(HostileStrings.yaml(value)): \(error)")
                #expect(error.field == field.path || error.field.hasPrefix(field.path + "."),
                        "\(HostileStrings.yaml(value)): \(error)")
                #expect(!error.description.contains("\n") && !error.description.contains("\r"),
                        "one line: \(error.description.debugDescription)")
            }
        }
        if !field.freeText {
            #expect(accepted.isEmpty, "accepted: \(accepted.map(HostileStrings.yaml))")
        }
    }

    @Test("free text that is accepted stays on its own line in the exposition", onHost, arguments: fields.filter(\.freeText))
    func freeTextIsEscaped(field: Field) throws {
        for value in HostileStrings.all {
            guard case .success(let config) = Self.load(Self.config(field, value)) else { continue }
            var out = Exposition()
            let counter = config.metrics.counters[0]
            let rule = LabelRule(try #require(counter.labels?.first))
            let label = counter.labels?.first?.staticMap?["bash"] ?? "shell"
            out.counter(counter.name, help: counter.help, samples: [Exposition.Sample(labels: [(rule.name, label)], value: 1)])
            // The format's lines end at "\n" alone (not Swift's "\r\n" grapheme).
            let lines = out.text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            #expect(lines.count == 3, "\(HostileStrings.yaml(value)): \(out.text.debugDescription)")
            #expect(lines.first.map { String($0).hasPrefix("# HELP \(counter.name) ") } == true)
        }
    }

    /// Through the binary: every field once (every fourth in the guest), a different hostile string each.
    @Test("the exporter refuses each before creating anything in the kernel",
          .enabled(if: getuid() == 0 && FileManager.default.fileExists(atPath: "/sys/kernel/tracing/dynamic_events"), "needs root and tracefs"))
    func nothingCreated() throws {
        let directory = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let strict = Self.fields.filter { !$0.freeText }
        for (index, field) in strict.enumerated() where !KernelGate.inGuest || index % 4 == 0 {
            let value = HostileStrings.all[(index * 7) % HostileStrings.all.count]
            let file = directory.appendingPathComponent("hostile-\(index).yaml")
            try Self.config(field, value).write(to: file, atomically: true, encoding: .utf8)
            let child = try Child(Support.exporter, ["--config", file.path, "--listen", "127.0.0.1:19438"], captureOutput: true)
            let output = child.readOutput(until: ContinuousClock.now + .seconds(60))
            let exit = child.wait(timeout: .seconds(10)) ?? child.kill()
            #expect(exit == .code(2), "\(field) = \(HostileStrings.yaml(value)): \(output)")
            #expect(output.contains("hostile-\(index).yaml:\(field.line):"), "\(field) = \(HostileStrings.yaml(value)): \(output)")
            #expect(output.contains(field.path), "\(output)")
            #expect(!output.contains("armed"), "\(output)")
            #expect(Support.kernelObjects(of: child.pid).isEmpty, "\(Support.kernelObjects(of: child.pid))")
        }
    }
}
