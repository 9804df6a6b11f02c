import ArgumentParser
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// `tracefs hist`: a kernel histogram of any event, from the command line.
struct Hist: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count an event in a kernel histogram (a hist trigger) and print the table.",
        discussion: """
            Keys are fields with an optional modifier: .hex, .sym, .sym-offset, .syscall, .execname, \
            .log2, .usecs, .buckets=N. Values are numeric fields summed per key; --sort takes hitcount, \
            a value or a key's field, with .descending or .ascending. The filter is in the kernel's syntax.

            Examples:
              tracefs hist sched:sched_switch --key next_pid.execname --sort hitcount.descending -d 5
              tracefs hist kmem:kmalloc --key call_site.sym --value bytes_req --sort bytes_req.descending
              tracefs hist syscalls:sys_enter_read --key common_pid.execname --filter 'count > 4096' --json

            Needs CONFIG_HIST_TRIGGERS. Ends on Ctrl-C or after -d, then prints one row per key \
            (with --json, one object per row).
            """)

    @Argument(help: "The event, as SYSTEM:EVENT (or SYSTEM/EVENT).")
    var event: String

    @Option(help: "A key field, FIELD[.modifier] (repeatable, at least one).")
    var key: [String] = []

    @Option(help: "A numeric field to sum per key (repeatable).")
    var value: [String] = []

    @Option(help: "Sort by hitcount, a value or a key field, with .descending or .ascending (up to two).")
    var sort: [String] = []

    @Option(help: "Count only events for which this filter (the kernel's syntax) holds.")
    var filter: String?

    @Option(name: .customShort("d"), help: ArgumentHelp("Stop after this many seconds.", valueName: "seconds"))
    var duration: Double?

    @Flag(help: "One JSON object per row.")
    var json = false

    var systemAndEvent: (String, String)? {
        let parts = event.split(whereSeparator: { $0 == ":" || $0 == "/" }).map(String.init)
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }

    func validate() throws {
        guard systemAndEvent != nil else { throw ValidationError("name the event as SYSTEM:EVENT, such as sched:sched_switch") }
        guard !key.isEmpty else { throw ValidationError("give at least one --key FIELD") }
        for key in key { _ = try Self.key(key) }
        if let filter {
            do { _ = try EventFilter(parsing: filter) } catch { throw ValidationError("--filter: \(error.reason)") }
        }
        if let duration, duration <= 0 { throw ValidationError("-d takes a number of seconds greater than 0") }
    }

    static func key(_ text: String) throws -> Histogram.Key {
        guard let dot = text.firstIndex(of: ".") else { return Histogram.Key(text) }
        let field = String(text[..<dot]), modifier = String(text[text.index(after: dot)...])
        let kind: Histogram.KeyModifier
        switch modifier {
        case "hex": kind = .hex
        case "sym": kind = .symbol
        case "sym-offset": kind = .symbolOffset
        case "syscall": kind = .syscall
        case "execname": kind = .execname
        case "log2": kind = .log2
        case "usecs": kind = .usecs
        case let buckets where buckets.hasPrefix("buckets="):
            guard let size = Int(buckets.dropFirst("buckets=".count)), size > 0 else {
                throw ValidationError("'\(text)': .buckets=N takes a size greater than 0")
            }
            kind = .buckets(size: size)
        default:
            throw ValidationError("'\(text)': unknown modifier .\(modifier) (hex, sym, sym-offset, syscall, execname, log2, usecs, buckets=N)")
        }
        return Histogram.Key(field, kind)
    }

    func run() async throws {
        let capabilities = try requireCapabilities()
        guard capabilities.histograms else { throw Failure.missing("hist triggers (CONFIG_HIST_TRIGGERS)") }
        guard let (system, name) = systemAndEvent else { return }
        let keys = try key.map(Self.key)
        let sortKeys = sort.map { text -> Histogram.SortKey in
            if text.hasSuffix(".descending") { return Histogram.SortKey(String(text.dropLast(".descending".count)), descending: true) }
            if text.hasSuffix(".ascending") { return Histogram.SortKey(String(text.dropLast(".ascending".count))) }
            return Histogram.SortKey(text)
        }
        let parsedFilter = try filter.map { try EventFilter(parsing: $0) }
        Signals.install()
        try await Failure.reporting {
            try TraceSession.run { session in
                let histogram = try Histogram(in: session.instance, system: system, event: name, keys: keys, values: value,
                                              sortedBy: sortKeys, filter: parsedFilter)
                try histogram.start()
                defer { try? histogram.destroy() }
                if isatty(STDOUT_FILENO) == 1 { printError("tracefs: counting \(system):\(name); Ctrl-C ends") }
                let start = monotonicSeconds()
                while !Signals.sleep(seconds: 0.1) {
                    if let duration, monotonicSeconds() - start >= duration { break }
                }
                let table = try histogram.read()
                try histogram.destroy()
                print(json ? Self.jsonLines(table) : Self.text(table, values: value), terminator: "")
            }
        }
        if let signal = Signals.received { throw ExitCode(128 + signal) }
    }

    static func text(_ table: HistogramTable, values: [String]) -> String {
        let header = table.keys.map { $0.field + ($0.modifier.map { ".\($0)" } ?? "") } + values + ["hitcount"]
        let rows = table.rows.map { row in
            row.keys.map { $0.value.description } + values.map { String(row.value($0) ?? 0) } + [String(row.hitCount)]
        }
        let widths = header.indices.map { column in ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                column < table.keys.count ? cell.padding(toLength: widths[column]) : cell.leftPadding(toLength: widths[column])
            }.joined(separator: "  ") + "\n"
        }
        return line(header) + rows.map(line).joined() + "\ntotals: \(table.rows.count) row(s)\n"
    }

    static func jsonLines(_ table: HistogramTable) -> String {
        table.rows.map { row in
            var object = JSONObject()
            for key in row.keys {
                switch key.value {
                case .number(let number), .hex(let number): object.add(key.field, number: number)
                case .log2(let exponent): object.add(key.field, number: HistogramKeyValue.log2Range(exponent: exponent).upperBound)
                case .bucket(let lower, _): object.add(key.field, number: lower)
                case .execname(let command, let pid):
                    object.add(key.field, number: Int64(pid))
                    object.add("comm", string: command)
                case .syscall(let name, let number):
                    object.add(key.field, number: number)
                    object.add("syscall", string: name)
                default: object.add(key.field, string: key.value.description)
                }
            }
            for value in row.values { object.add(value.name, number: value.value) }
            return object.text + "\n"
        }.joined()
    }
}
