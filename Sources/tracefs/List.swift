import ArgumentParser
import TraceFS

/// The kernel's dynamic events, from every tool.
struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the kernel's dynamic events (kprobes, uprobes, eprobes, synthetic events).",
        discussion: """
            Examples:
              tracefs list
              tracefs list --kind uprobe
              tracefs list --kind kprobe --json | jq .event

            Text lines are 'KIND SYSTEM/EVENT ADDRESS FORMAT'; --json prints one object per event.
            """)

    enum KindName: String, ExpressibleByArgument, CaseIterable {
        case kprobe, kretprobe, uprobe, uretprobe, eprobe, synth

        var kinds: DynamicEvent.Kinds {
            switch self {
            case .kprobe: .kprobe
            case .kretprobe: .kretprobe
            case .uprobe: .uprobe
            case .uretprobe: .uretprobe
            case .eprobe: .eprobe
            case .synth: .synthetic
            }
        }
    }

    @Option(help: "Only events of these kinds (repeatable).")
    var kind: [KindName] = []

    @Flag(help: "One JSON object per line.")
    var json = false

    func run() async throws {
        let kinds = kind.isEmpty ? DynamicEvent.Kinds.all : kind.reduce(into: DynamicEvent.Kinds()) { $0.formUnion($1.kinds) }
        let events = try await Failure.reporting { try DynamicEvent.all(kinds) }
        for event in events {
            let kindName = event.kind == .synthetic ? "synth" : "\(event.kind)"
            if json {
                var object = JSONObject()
                object.add("kind", string: kindName)
                object.add("system", string: event.system)
                object.add("event", string: event.event)
                if let address = event.address { object.add("address", string: address) }
                if let format = event.format { object.add("format", string: format) }
                print(object.text)
            } else {
                print([kindName, "\(event.system)/\(event.event)", event.address ?? "", event.format ?? ""]
                    .filter { !$0.isEmpty }.joined(separator: " "))
            }
        }
    }
}

/// Removes what dead sessions left behind (``TraceSession/removeOrphans()``).
struct Reap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove probes and instances left by swift-tracefs sessions whose process is gone.",
        discussion: """
            Examples:
              tracefs reap

            Sessions name their group and instance swtf_<pid>_<start time>_<n>. A name whose process \
            (that pid with that start time) no longer runs is an orphan, as after 'kill -9' of a \
            tracefs command. Other tools' events, and sessions still running, are left alone.
            """)

    func run() async throws {
        let report = try await Failure.reporting { try TraceSession.removeOrphans() }
        for group in report.groups { print("removed group \(group)") }
        for instance in report.instances { print("removed instance \(instance)") }
        print("tracefs reap: \(report.events) event(s) in \(report.groups.count) group(s), "
            + "\(report.instances.count) instance(s) removed")
    }
}
