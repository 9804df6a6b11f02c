import ArgumentParser
import TraceFS

/// Removes the probes and instances that swift-tracefs sessions left behind when their process
/// died without cleaning up (SIGKILL, a crash), and nothing else.
@main
struct TraceFSReap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tracefs-reap",
        abstract: "Remove dynamic events and trace instances left by swift-tracefs sessions whose process is gone.",
        discussion: """
            Sessions name their group and instance swtf_<pid>_<start time>_<n>. A name whose process \
            (that pid with that start time) no longer runs is an orphan. Other tools' events, and \
            sessions still running, are left alone.
            """)

    func run() throws {
        let report = try TraceSession.removeOrphans()
        for group in report.groups { print("removed group \(group)") }
        for instance in report.instances { print("removed instance \(instance)") }
        print("tracefs-reap: \(report.events) event(s) in \(report.groups.count) group(s), "
            + "\(report.instances.count) instance(s) removed")
    }
}
