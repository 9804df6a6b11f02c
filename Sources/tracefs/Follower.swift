import Synchronization
@_spi(Tools) import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Prints a session's records as they arrive until a limit, a deadline, a signal, or the end of
/// the traced process, on the calling thread, while a second thread watches for those ends.
///
/// When the traced process ends, the watcher writes a marker into the instance: every event the
/// process caused was recorded before it, so the reader stops at the marker having printed them
/// all. The other ends (Ctrl-C, `-d`) stop the reading where it is.
///
/// With `stacks`, each event waits for the `ftrace/kernel_stack` record the kernel writes after it
/// on the same CPU (the instance's `stacktrace` option) and is printed with it: ` => frame` lines
/// after the text line, or a `stack` array in the JSON object. An event counts (for `-n`) once it
/// is printed.
///
/// Sendable: the settings never change; the counts and the child's status are atomics, the events
/// waiting for their stacks are behind a mutex.
final class Follower: Sendable {
    let session: TraceSession
    let output: Output
    let json: Bool
    let limit: Int?
    let duration: Double?
    let probes: Int
    /// A process given with `-p`: when it is gone, the trace ends.
    let watchedPID: Int32?
    /// The command started with `--`, whose exit the watcher reaps.
    let childPID: Int32?
    /// Symbols for kernel stacks, when each event is printed with its stack.
    let stacks: KernelStack?

    let seen = Atomic<Int>(0)
    let lost = Atomic<Int>(0)
    let childStatus = Atomic<Int32>(-1)
    private let done = Atomic<Bool>(false)
    private let marker: String
    /// Per CPU, the last event's line, until its stack arrives.
    private let waitingForStack = PthreadMutex<[Int: String]>([:])

    init(session: TraceSession, output: Output, json: Bool, limit: Int?, duration: Double?, probes: Int,
         watchedPID: Int32?, childPID: Int32?, stacks: KernelStack? = nil) {
        self.session = session
        self.output = output
        self.json = json
        self.limit = limit
        self.duration = duration
        self.probes = probes
        self.watchedPID = watchedPID
        self.childPID = childPID
        self.stacks = stacks
        marker = "swtf-end-\(getpid())"
    }

    /// The catalog to read with: the session's events, the synthetic ones, and `ftrace` for the
    /// marker.
    func run(catalog: EventCatalog) throws {
        let watcher = startThread { self.watch() }
        defer {
            done.store(true, ordering: .releasing)
            pthread_join(watcher, nil)
            output.finish()
        }
        var marked = false
        try session.instance.followRecords(using: catalog) { record in
            if isMarker(record) {
                marked = true
                return .stop
            }
            return take(record)
        }
        // The marker came from one CPU while another CPU's last records may not have been read
        // yet (the merge had run out of them): read what the buffers still hold.
        if marked, !limitReached {
            try session.instance.setTracing(on: false)
            try session.instance.readRecords(using: catalog) { record in
                isMarker(record) ? .continue : take(record)
            }
        }
        // Events whose stacks were not recorded (the kernel dropped them) or not read before the end.
        for (_, line) in waitingForStack.withLock({ $0.sorted { $0.key < $1.key } }) where !limitReached {
            _ = emit(json ? Self.adding(stack: [], to: line) : line)
        }
    }

    private var limitReached: Bool { limit.map { seen.load(ordering: .relaxed) >= $0 } ?? false }

    private func isMarker(_ record: borrowing Record) -> Bool {
        let format = record.format
        return format.system == "ftrace" && format.name == "print" && record.string("buf")?.hasPrefix(marker) == true
    }

    /// Prints a record (other markers are skipped), or with `stacks` keeps it until its stack
    /// comes; stops at the limit.
    private func take(_ record: borrowing Record) -> IterationAction {
        if record.lostEventsBefore != 0 { lost.add(max(1, Int(record.lostEventsBefore)), ordering: .relaxed) }
        if record.format.system == "ftrace" {
            guard let stacks, record.format.name == "kernel_stack",
                  let line = waitingForStack.withLock({ $0.removeValue(forKey: record.cpu) }) else { return .continue }
            let frames = KernelStack.addresses(record).map(stacks.describe)
            return emit(json ? Self.adding(stack: frames, to: line) : ([line] + frames.map { " => " + $0 }).joined(separator: "\n"))
        }
        let line = json ? RecordLine.json(record) : RecordLine.text(record)
        guard stacks != nil else { return emit(line) }
        // An event still waiting on this CPU got no stack: print it without one.
        let unstacked = waitingForStack.withLock { $0.updateValue(line, forKey: record.cpu) }
        return unstacked.map { emit(json ? Self.adding(stack: [], to: $0) : $0) } ?? .continue
    }

    /// Prints `text` as one event; stops at the limit.
    private func emit(_ text: String) -> IterationAction {
        output.line(text)
        let count = seen.add(1, ordering: .relaxed).newValue
        if let limit, count >= limit { return .stop }
        return .continue
    }

    /// A JSON object's text with a `stack` array of strings added as its last member.
    private static func adding(stack frames: [String], to object: String) -> String {
        String(object.dropLast()) + ",\"stack\":[" + frames.map(JSONObject.quoted).joined(separator: ",") + "]}"
    }

    private func watch() {
        let start = monotonicSeconds()
        var lastStatus = 0.0
        var markedAt: Double?
        while !done.load(ordering: .acquiring) {
            usleep(10_000)
            let now = monotonicSeconds()
            let status: String? = now - lastStatus >= 1 ? statusLine() : nil
            if status != nil { lastStatus = now }
            output.flush(status: status)
            if Signals.received != nil || (duration.map { now - start >= $0 } ?? false) {
                session.instance.stopFollowing()
                continue
            }
            if let markedAt {
                // The marker should have been read long ago; stop anyway.
                if now - markedAt > 2 { session.instance.stopFollowing() }
                continue
            }
            var ended = false
            if let childPID {
                var raw: Int32 = 0
                if waitpid(childPID, &raw, WNOHANG) == childPID {
                    let termination = raw & 0x7F
                    childStatus.store(termination == 0 ? (raw >> 8) & 0xFF : 128 + termination, ordering: .relaxed)
                    ended = true
                }
            } else if let watchedPID, !isRunning(watchedPID) {
                ended = true
            }
            if ended {
                markedAt = now
                if (try? session.instance.writeMarker(marker)) == nil { session.instance.stopFollowing() }
            }
        }
    }

    private func statusLine() -> String {
        "tracefs: \(probes) probe(s) armed, \(seen.load(ordering: .relaxed)) event(s), "
            + "\(lost.load(ordering: .relaxed)) lost; Ctrl-C ends"
    }
}

/// Starts a joinable thread running `body`.
func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    var thread = pthread_t()
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    pthread_create(&thread, nil, { context in
        Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
        return nil
    }, context)
    return thread
}

/// Whether process `pid` runs: it exists and is not a zombie waiting for its parent.
func isRunning(_ pid: Int32) -> Bool {
    guard let file = fopen("/proc/\(pid)/stat", "r") else { return false }
    defer { fclose(file) }
    var buffer = [UInt8](repeating: 0, count: 512)
    let count = fread(&buffer, 1, buffer.count, file)
    let line = String(decoding: buffer[0..<count], as: UTF8.self)
    // "pid (comm) S ...": the state follows the last ')', as comm may hold one.
    guard let close = line.lastIndex(of: ")") else { return false }
    return line[line.index(after: close)...].drop { $0 == " " }.first != "Z"
}
