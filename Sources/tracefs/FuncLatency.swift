import ArgumentParser
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// `tracefs funclatency`: bcc's funclatency from the library's LatencyHistogram.
struct FuncLatency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "funclatency",
        abstract: "Show the distribution of a function's run time, as bcc's funclatency does.",
        discussion: """
            FUNCTION is a kernel function (a kprobe and a kretprobe) or /PATH:FUNCTION in a program or \
            library (a uprobe and a uretprobe). The time between them is carried by a synthetic event and \
            counted in a kernel histogram of power-of-two buckets; nothing is recorded per call. Needs \
            synthetic events and hist triggers besides the probes ('tracefs doctor').

            Examples:
              tracefs funclatency do_sys_openat2
              tracefs funclatency -u -i 1 vfs_read
              tracefs funclatency -m -p 1234 -d 10 /usr/lib/x86_64-linux-gnu/libc.so.6:malloc
              tracefs funclatency --by-comm do_sys_openat2

            Prints '     usecs               : count     distribution' rows with '*' bars scaled to 40, \
            then count, average and total. The kernel's buckets hold (2^(n-1), 2^n], so a row's bounds \
            are those, not bcc's [2^(n-1), 2^n - 1]; with -m the times are counted in 1 ms buckets and \
            grouped exactly as bcc groups them. -p times calls of the process's main thread (its pid). \
            Ends on Ctrl-C or after -d.
            """)

    @Flag(name: .customShort("u"), help: "Microseconds.")
    var microseconds = false

    @Flag(name: .customShort("m"), help: "Milliseconds.")
    var milliseconds = false

    @Option(name: .customShort("p"), help: ArgumentHelp("Only calls made by this process (thread) id.", valueName: "pid"))
    var pid: Int32?

    @Option(name: .customShort("i"), help: ArgumentHelp("Print the distribution every this many seconds (each interval's own).", valueName: "seconds"))
    var interval: Double?

    @Option(name: .customShort("d"), help: ArgumentHelp("Stop after this many seconds.", valueName: "seconds"))
    var duration: Double?

    @Flag(help: "One distribution per process.")
    var byComm = false

    @Argument(help: "A kernel function, or /PATH:FUNCTION.")
    var function: String

    func validate() throws {
        if microseconds && milliseconds { throw ValidationError("give -u or -m, not both") }
        if let pid, pid <= 0 { throw ValidationError("-p takes a process id greater than 0") }
        if let interval, interval <= 0 { throw ValidationError("-i takes a number of seconds greater than 0") }
        if let duration, duration <= 0 { throw ValidationError("-d takes a number of seconds greater than 0") }
        if function.hasPrefix("/"), !function.dropFirst().contains(":") {
            throw ValidationError("a user-space function is /PATH:FUNCTION")
        }
    }

    var unitName: String { milliseconds ? "msecs" : microseconds ? "usecs" : "nsecs" }

    func run() async throws {
        let capabilities = try requireCapabilities()
        let user = function.hasPrefix("/")
        if !user, !capabilities.supports(.kprobe) {
            throw Failure.missing(capabilities.kprobeEvents ? "kprobes allowed (kernel lockdown)" : "kprobe events (CONFIG_KPROBE_EVENTS)")
        }
        if user, !capabilities.uprobeEvents { throw Failure.missing("uprobe events (CONFIG_UPROBE_EVENTS)") }
        if !capabilities.syntheticEvents { throw Failure.missing("synthetic events (CONFIG_SYNTH_EVENTS)") }
        if !capabilities.histograms { throw Failure.missing("hist triggers (CONFIG_HIST_TRIGGERS)") }
        Signals.install()
        try await Failure.reporting {
            let target = try target()
            let latency = try LatencyHistogram(function: target, unit: milliseconds || microseconds ? .microseconds : .nanoseconds,
                                               buckets: milliseconds ? .linear(size: 1000) : .log2, byProcess: byComm, pid: pid)
            do {
                // The exact count and sum, for count, average and total: delta summed per pid.
                let sums = try Histogram(in: latency.session.instance, system: SyntheticEvent.system, event: latency.event.name,
                                         keys: [Histogram.Key("pid")], values: ["delta"])
                try sums.start()
                defer { try? sums.destroy() }
                if isatty(STDOUT_FILENO) == 1 { printError("Tracing \(function)... Hit Ctrl-C to end.") }
                let start = monotonicSeconds()
                var intervalStart = start
                var earlier: HistogramTable?
                var earlierSums: HistogramTable?
                var ended = false
                let output = Output()
                defer { output.finish() }
                var lastStatus = 0.0
                while !ended {
                    ended = Signals.sleep(seconds: 0.1)
                    let now = monotonicSeconds()
                    if let duration, now - start >= duration { ended = true }
                    if !ended, now - lastStatus >= 1 {
                        lastStatus = now
                        // Every call timed so far, and the ones the histograms had no room for.
                        let sumTable = try sums.read()
                        output.flush(status: "tracefs: 2 probe(s) armed, \(sumTable.rows.reduce(0) { $0 + $1.hitCount }) call(s), "
                                         + "\(sumTable.totals.dropped) lost; Ctrl-C ends")
                    }
                    guard ended || interval.map({ now - intervalStart >= $0 }) == true else { continue }
                    intervalStart = now
                    let table = try latency.read(), sumTable = try sums.read()
                    output.line(report(earlier.map { table.difference(since: $0) } ?? table,
                                       sums: earlierSums.map { sumTable.difference(since: $0) } ?? sumTable))
                    output.flush()
                    if interval != nil { (earlier, earlierSums) = (table, sumTable) }
                }
                try sums.destroy()
                try latency.end()
            } catch {
                try? latency.end()
                throw error
            }
        }
        if let signal = Signals.received { throw ExitCode(128 + signal) }
    }

    private func target() throws(TraceFSError) -> LatencyHistogram.Function {
        guard function.hasPrefix("/"), let colon = function.lastIndex(of: ":") else { return .kernel(function) }
        let file = String(function[..<colon]), symbol = String(function[function.index(after: colon)...])
        // The library finds the symbol's file offset for a uprobe; the histogram takes the offset.
        let probe = try DynamicEvent.uprobe(system: "check", event: "entry", file: file, symbol: symbol)
        guard let address = probe.address, let colon = address.lastIndex(of: ":"),
              address[address.index(after: colon)...].hasPrefix("0x"),
              let offset = UInt64(address[address.index(colon, offsetBy: 3)...], radix: 16) else {
            throw TraceFSError(.invalidArgument, operation: "time \(function)", reason: "no file offset for \(symbol) in \(file)")
        }
        return .user(file: String(address[..<colon]), offset: offset)
    }

    /// The tables (one per process with --by-comm), then count, average and total.
    private func report(_ table: HistogramTable, sums: HistogramTable) -> String {
        var groups: [(String, [Int: UInt64])] = []
        for row in table.rows {
            let process = byComm ? row.key("common_pid").map { "\($0)" } ?? "?" : ""
            guard let slot = slot(of: row.key("delta")) else { continue }
            if groups.last?.0 != process { groups.append((process, [:])) }
            groups[groups.count - 1].1[slot, default: 0] += row.hitCount
        }
        var text = ""
        for (process, slots) in groups {
            if byComm { text += "\ncomm = \(process)\n" }
            text += Log2Table(unit: unitName, slots: slots, kernelBuckets: !milliseconds).text
        }
        // The count is the distribution's; the total is the sums histogram's, which counts the same
        // calls unless it missed some (then the average and total are marked as partial).
        let count = table.rows.reduce(0) { $0 + $1.hitCount }
        let summed = sums.rows.reduce(0) { $0 + $1.hitCount }
        let total = sums.rows.reduce(0) { $0 + ($1.value("delta") ?? 0) }
        let scale: UInt64 = milliseconds ? 1000 : 1
        let partial = summed == count ? "" : " (of \(summed) calls)"
        text += "\ncount: \(count)\naverage: \(summed == 0 ? 0 : total / summed / scale) \(unitName)\(partial)"
            + "\ntotal: \(total / scale) \(unitName)\(partial)"
        return text
    }

    /// The bucket a row's delta key falls in: the kernel's log2 exponent, or for -m bcc's slot of
    /// the whole milliseconds.
    private func slot(of key: HistogramKeyValue?) -> Int? {
        switch key {
        case .log2(let exponent): exponent
        case .bucket(let lower, _): Log2Table.bccSlot(lower / 1000)
        case .number(let value): milliseconds ? Log2Table.bccSlot(value / 1000) : Log2Table.bccSlot(value)
        default: nil
        }
    }
}

/// bcc's `print_log2_hist` table.
struct Log2Table {
    let unit: String
    /// Count per slot.
    let slots: [Int: UInt64]
    /// Slot n holds the kernel's (2^(n-1), 2^n] (0 and 1 for n = 0), not bcc's [2^(n-1), 2^n - 1].
    let kernelBuckets: Bool

    /// bcc's slot for `value` (`bpf_log2l(v)`): 1 for 0 and 1, 2 for 2-3, 3 for 4-7...
    static func bccSlot(_ value: UInt64) -> Int { value == 0 ? 1 : 64 - value.leadingZeroBitCount }

    var text: String {
        guard let last = slots.filter({ $0.value > 0 }).keys.max() else { return "" }
        let first = kernelBuckets ? 0 : 1
        let wide = last > 32
        let maximum = slots.values.max() ?? 0
        let stars = wide ? 20 : 40
        var text = wide ? "               \(unit.padding(toLength: 29)) : count     distribution\n"
            : "     \(unit.padding(toLength: 19)) : count     distribution\n"
        for slot in first...max(first, last) {
            let (low, high) = bounds(slot)
            let count = slots[slot] ?? 0
            let width = wide ? 20 : 10
            text += String(low).leftPadding(toLength: width) + " -> " + String(high).padding(toLength: width) + " : "
                + String(count).padding(toLength: 8) + " |" + Self.stars(count, maximum, stars).padding(toLength: stars) + "|\n"
        }
        return text
    }

    private func bounds(_ slot: Int) -> (UInt64, UInt64) {
        if kernelBuckets {
            let range = HistogramKeyValue.log2Range(exponent: slot)
            return (range.lowerBound, range.upperBound)
        }
        let low: UInt64 = slot <= 1 ? 0 : UInt64(1) << UInt64(slot - 1)
        let high: UInt64 = slot >= 64 ? .max : (UInt64(1) << UInt64(slot)) - 1
        return (low, high)
    }

    /// bcc's `_stars`: `width * value / maximum` stars.
    static func stars(_ value: UInt64, _ maximum: UInt64, _ width: Int) -> String {
        guard maximum > 0 else { return "" }
        let count = min(width, Int((Double(width) * Double(value) / Double(maximum)).rounded(.up)))
        return String(repeating: "*", count: max(0, count))
    }
}
