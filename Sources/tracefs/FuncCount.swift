import ArgumentParser
import Synchronization
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// `tracefs funccount`: bcc's funccount from kprobe hit counts.
struct FuncCount: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "funccount",
        abstract: "Count calls of kernel or user-space functions matching a pattern, as bcc's funccount does.",
        discussion: """
            Each PATTERN is a kernel function or a glob ('vfs_*', '*_openat2'), expanded from tracefs's \
            available_filter_functions (or /proc/kallsyms); each match gets a kprobe. /PATH:PATTERN is a glob \
            over the functions an executable or shared library defines (its .symtab, or .dynsym when \
            stripped; aliases at one address count once), each match getting a uprobe. Without -p the counts \
            are the kernel's own per-probe hit counters (kprobe_profile, uprobe_profile): nothing is \
            recorded, every process counts. With -p, each probe is filtered to the process's threads (those running when it starts) \
            and its recorded events are counted, since kprobe_profile counts before filters.

            Examples:
              tracefs funccount 'vfs_*'
              tracefs funccount 'tcp_*' -i 1 --top 10
              tracefs funccount do_sys_openat2 -p 1234 -d 5
              tracefs funccount '/usr/lib/x86_64-linux-gnu/libc.so.6:mal*' -p 1234

            Ends on Ctrl-C or after -d, printing 'FUNC COUNT' rows of the functions called, fewest \
            first. With -p it also ends when the process exits. A pattern matching more than --max \
            functions (1000 by default) is refused before any probe is made.
            """)

    @Argument(help: "Kernel functions or globs, such as 'vfs_*', or /PATH:GLOB in a program or library.")
    var patterns: [String] = []

    @OptionGroup var processes: ProcessOptions

    @Option(name: .customShort("i"), help: ArgumentHelp("Print the counts every this many seconds (each interval's own), instead of once.", valueName: "seconds"))
    var interval: Double?

    @Option(help: "Refuse patterns matching more than this many functions.")
    var max = 1000

    @Option(help: "Only the most called N functions.")
    var top: Int?

    func validate() throws {
        guard !patterns.isEmpty else { throw ValidationError("give a function or a pattern, such as 'vfs_*'") }
        if let interval, interval <= 0 { throw ValidationError("-i takes a number of seconds greater than 0") }
        if max <= 0 { throw ValidationError("--max takes a number greater than 0") }
        if let top, top <= 0 { throw ValidationError("--top takes a number greater than 0") }
        for pattern in patterns where pattern.hasPrefix("/") {
            guard let colon = pattern.lastIndex(of: ":"), colon != pattern.index(before: pattern.endIndex) else {
                throw ValidationError("'\(pattern)': a user-space pattern is /PATH:GLOB, such as '/usr/lib/x86_64-linux-gnu/libc.so.6:mal*'")
            }
        }
    }

    func run() async throws {
        let capabilities = try requireCapabilities()
        let kernelPatterns = patterns.filter { !$0.hasPrefix("/") }, userPatterns = patterns.filter { $0.hasPrefix("/") }
        if !kernelPatterns.isEmpty, !capabilities.supports(.kprobe) {
            throw Failure.missing(capabilities.kprobeEvents ? "kprobes allowed (kernel lockdown)" : "kprobe events (CONFIG_KPROBE_EVENTS)")
        }
        if !userPatterns.isEmpty, !capabilities.uprobeEvents { throw Failure.missing("uprobe events (CONFIG_UPROBE_EVENTS)") }
        let kernelFunctions = kernelPatterns.isEmpty ? [] : KernelFunctions.expand(kernelPatterns, tracingDirectory: capabilities.tracingDirectory)
        if !kernelPatterns.isEmpty, kernelFunctions.isEmpty {
            printError("tracefs: no kernel function matches \(kernelPatterns.map { "'\($0)'" }.joined(separator: ", ")); see available_filter_functions")
            throw ExitCode(1)
        }
        var userFunctions: [(file: String, function: UserFunction)] = []
        for pattern in userPatterns {
            let colon = pattern.lastIndex(of: ":")!
            let file = String(pattern[..<colon]), glob = String(pattern[pattern.index(after: colon)...])
            let found: [UserFunction]
            do { found = try DynamicEvent.userFunctions(in: file, matching: glob) } catch { throw Failure.report(error) }
            guard !found.isEmpty else {
                printError("tracefs: no function of \(file) matches '\(glob)'; see 'nm -D \(file)' or 'readelf -Ws \(file)'")
                throw ExitCode(1)
            }
            for function in found where !userFunctions.contains(where: { $0.file == file && $0.function.fileOffset == function.fileOffset }) {
                userFunctions.append((file, function))
            }
        }
        let functions = kernelFunctions
        guard functions.count + userFunctions.count <= max else {
            throw ValidationError("\(patterns.joined(separator: " ")) matches \(functions.count + userFunctions.count) functions, more than --max \(max); "
                + "narrow the pattern or raise --max")
        }
        let pidFilter = try processes.pidFilter()
        Signals.install()
        try await Failure.reporting {
            try TraceSession.run { session in
                var eventFunctions: [String: String] = [:]
                var refused: [(String, TraceFSError)] = []
                for function in functions {
                    let name = Self.eventName(function, index: eventFunctions.count + refused.count)
                    do throws(TraceFSError) {
                        try session.kprobe(name, address: function)
                        eventFunctions[name] = function
                    } catch {
                        refused.append((function, error))
                    }
                }
                for (file, function) in userFunctions {
                    let name = Self.eventName(function.name, index: eventFunctions.count + refused.count)
                    do throws(TraceFSError) {
                        try session.uprobe(name, file: file, offset: function.fileOffset)
                        eventFunctions[name] = function.name
                    } catch {
                        refused.append((function.name, error))
                    }
                }
                if let (function, error) = refused.first {
                    guard !eventFunctions.isEmpty else { throw error }
                    printError("tracefs: \(refused.count) function(s) could not be probed, such as \(function): \(error.reason)")
                }
                let catalog = try session.catalog()
                if let pidFilter {
                    for name in eventFunctions.keys.sorted() {
                        try session.instance.setFilter(pidFilter, system: session.group, event: name, catalog: catalog)
                    }
                }
                try session.enableAll()
                if pidFilter == nil { try session.instance.setTracing(on: false) }
                let output = Output()
                defer { output.finish() }

                let counter = Counter(session: session, catalog: catalog, byRecords: pidFilter != nil)
                let start = monotonicSeconds()
                var intervalStart = start
                var lastStatus = 0.0
                var ended = false
                while !ended {
                    ended = Signals.sleep(seconds: 0.1)
                    let now = monotonicSeconds()
                    if let duration = processes.duration, now - start >= duration { ended = true }
                    if let pid = processes.pid, !isRunning(pid) { ended = true }
                    try counter.update()
                    if let interval, now - intervalStart >= interval || ended {
                        output.text(table(counter.takeInterval(), eventFunctions))
                        output.flush()
                        intervalStart = now
                    }
                    if !ended, now - lastStatus >= 1 {
                        lastStatus = now
                        output.flush(status: "tracefs: \(eventFunctions.count) probe(s) armed, \(counter.calls) call(s), "
                                         + "\(counter.lost) lost; Ctrl-C ends")
                    }
                }
                if interval == nil { output.text(table(counter.takeInterval(), eventFunctions)) }
            }
        }
        if let signal = Signals.received { throw ExitCode(128 + signal) }
    }

    /// bcc's table: a header, then `FUNC COUNT` rows of the functions called, fewest first.
    func table(_ counts: [String: UInt64], _ functions: [String: String]) -> String {
        var rows = counts.filter { $0.value > 0 }.map { (function: functions[$0.key] ?? $0.key, count: $0.value) }
        rows.sort { $0.count != $1.count ? $0.count < $1.count : $0.function < $1.function }
        if let top { rows = Array(rows.suffix(top)) }
        var text = "\n" + "FUNC".padding(toLength: 36) + " " + "COUNT".leftPadding(toLength: 8) + "\n"
        for row in rows { text += row.function.padding(toLength: 36) + " " + String(row.count).leftPadding(toLength: 8) + "\n" }
        return text
    }

    /// The event name of the probe on the `index`th function: the function's name, then the index
    /// and this process's pid. kprobe_profile and uprobe_profile name events without their group,
    /// so two funccounts (or another tool) probing one function must not share an event name.
    static func eventName(_ function: String, index: Int) -> String {
        let suffix = "_\(index)_\(getpid())"
        return String(EventName.sanitized(function).prefix(EventName.maximumLength - suffix.utf8.count)) + suffix
    }
}

/// Calls per probe: from kprobe_profile's counters, or from recorded events when filtered.
private final class Counter {
    let session: TraceSession
    let catalog: EventCatalog
    let byRecords: Bool
    private var total: [String: UInt64] = [:]
    /// Events the kernel dropped before they were counted (recorded counting only).
    private(set) var lost = 0
    /// Calls counted so far.
    var calls: UInt64 { total.values.reduce(0, +) }
    private var atIntervalStart: [String: UInt64] = [:]
    private let start: ProbeProfile?

    init(session: TraceSession, catalog: EventCatalog, byRecords: Bool) {
        self.session = session
        self.catalog = catalog
        self.byRecords = byRecords
        start = byRecords ? nil : try? ProbeProfile.read()
    }

    func update() throws {
        if byRecords {
            var seen: [String: UInt64] = [:]
            var dropped = 0
            try session.instance.readRecords(using: catalog, order: .perCPU) { record in
                if record.lostEventsBefore != 0 { dropped += max(1, Int(record.lostEventsBefore)) }
                seen[record.format.name, default: 0] += 1
                return .continue
            }
            for (name, count) in seen { total[name, default: 0] += count }
            lost += dropped
        } else {
            let names = Set(session.events.map(\.event))
            var profile = try ProbeProfile.read()
            if let start { profile = profile.difference(since: start) }
            for hits in profile.kernelProbes + profile.userProbes where names.contains(hits.event) { total[hits.event] = hits.hits }
        }
    }

    /// The counts since the last call.
    func takeInterval() -> [String: UInt64] {
        defer { atIntervalStart = total }
        return total.mapValues { $0 }.merging(atIntervalStart) { now, before in now - Swift.min(now, before) }
    }
}

/// Kernel function names from globs.
enum KernelFunctions {
    static func expand(_ patterns: [String], tracingDirectory: String) -> [String] {
        var names: [String]?
        var result: [String] = []
        var seen: Set<String> = []
        for pattern in patterns {
            guard pattern.contains(where: { "*?[".contains($0) }) else {
                if seen.insert(pattern).inserted { result.append(pattern) }
                continue
            }
            if names == nil { names = load(tracingDirectory) }
            for name in names ?? [] where fnmatch(pattern, name, 0) == 0 && seen.insert(name).inserted {
                result.append(name)
            }
        }
        return result
    }

    /// `available_filter_functions` (names, with " [module]" after some), or the text symbols of
    /// `/proc/kallsyms`.
    private static func load(_ tracingDirectory: String) -> [String] {
        if let text = readFile(tracingDirectory + "/available_filter_functions"), !text.isEmpty {
            return text.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        }
        guard let text = readFile("/proc/kallsyms") else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count >= 3, parts[1] == "t" || parts[1] == "T" else { return nil }
            return String(parts[2])
        }
    }
}

/// The whole content of a file (such as a proc or tracefs file, whose size is not known), or `nil`.
func readFile(_ path: String) -> String? {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 && errno == EINTR { continue }
        guard count > 0 else { break }
        bytes += chunk[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
