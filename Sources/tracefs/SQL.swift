import ArgumentParser
import TraceFS

/// `tracefs sql`: a synthetic event from libtracefs's SQL (as `sqlhist`), traced.
struct SQL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql",
        abstract: "Create a synthetic event from a SQL query (as sqlhist reads it) and print its events.",
        discussion: """
            The query joins a start and an end event on matching fields; each match becomes one event \
            carrying the selected fields. Needs CONFIG_SYNTH_EVENTS and CONFIG_HIST_TRIGGERS.

            Examples:
              tracefs sql 'SELECT start.common_pid AS pid, (end.common_timestamp.usecs - start.common_timestamp.usecs) AS delta FROM sched.sched_waking AS start JOIN sched.sched_switch AS end ON start.pid = end.next_pid' -n 10
              tracefs sql '...' --json -d 5

            Output as 'tracefs trace' prints it; the synthetic event and its triggers are removed at the end.
            """)

    @Argument(help: "SELECT ... FROM SYSTEM.START JOIN SYSTEM.END ON ... [WHERE ...]")
    var query: String

    @Option(name: .customShort("d"), help: ArgumentHelp("Stop after this many seconds.", valueName: "seconds"))
    var duration: Double?

    @Option(name: .customShort("n"), help: ArgumentHelp("Stop after this many events.", valueName: "count"))
    var count: Int?

    @Flag(help: "One JSON object per event.")
    var json = false

    func validate() throws {
        if let duration, duration <= 0 { throw ValidationError("-d takes a number of seconds greater than 0") }
        if let count, count <= 0 { throw ValidationError("-n takes a number of events greater than 0") }
    }

    func run() async throws {
        let capabilities = try requireCapabilities()
        guard capabilities.syntheticEvents else { throw Failure.missing("synthetic events (CONFIG_SYNTH_EVENTS)") }
        guard capabilities.histograms else { throw Failure.missing("hist triggers (CONFIG_HIST_TRIGGERS)") }
        Signals.install()
        try await Failure.reporting {
            try TraceSession.run { session in
                let event = try SyntheticEvent(name: session.group, sql: query)
                try event.create()
                defer { try? event.destroy() }
                try session.instance.enableEvent(system: SyntheticEvent.system, event: event.name)
                let catalog = try EventCatalog.local(systems: [SyntheticEvent.system, "ftrace"])
                let follower = Follower(session: session, output: Output(), json: json, limit: count, duration: duration,
                                        probes: 1, watchedPID: nil, childPID: nil)
                try follower.run(catalog: catalog)
                try session.instance.disableEvent(system: SyntheticEvent.system, event: event.name)
                try event.destroy()
            }
        }
        if let signal = Signals.received { throw ExitCode(128 + signal) }
    }
}
