import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Generated typed arguments are accepted by the kernel, listed in `dynamic_events` exactly as
/// rendered, and the event's `format` file has one field per argument of the type, size and
/// signedness the argument's type says.
extension KernelSuite {
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot, "needs root"))
    struct FetchArgumentRoundTripTests {
        /// A `format` file's field line, without the event's own fields.
        struct Field: Equatable, CustomStringConvertible {
            let declaration: String
            let size: Int
            let signed: Bool
            var description: String { "\(declaration) size \(size) signed \(signed)" }
        }

        @Test(.enabled(if: KernelFeatures.uprobes, "needs uprobe events"),
              arguments: [DynamicEvent.Kind.uprobe, .uretprobe])
        func generatedUprobeArgumentsShowInTheFormat(kind: DynamicEvent.Kind) throws {
            try roundTrip(kind, sets: KernelFeatures.inGuest ? 40 : 150, seed: kind == .uprobe ? 0xFE7C4 : 0xFE7C5) {
                group, event, arguments throws(TraceFSError) in
                kind == .uprobe
                    ? try DynamicEvent.uprobe(system: group, event: event, file: UprobeTarget.path,
                                              offset: UprobeTarget.offset, arguments: arguments)
                    : try DynamicEvent.uretprobe(system: group, event: event, file: UprobeTarget.path,
                                                 offset: UprobeTarget.offset, arguments: arguments)
            }
        }

        @Test(.enabled(if: KernelFeatures.kprobes, "needs kprobe events"), arguments: [DynamicEvent.Kind.kprobe, .kretprobe])
        func generatedKprobeArgumentsShowInTheFormat(kind: DynamicEvent.Kind) throws {
            try roundTrip(kind, sets: 40, seed: kind == .kprobe ? 0xFE7C6 : 0xFE7C7) {
                group, event, arguments throws(TraceFSError) in
                kind == .kprobe
                    ? try DynamicEvent.kprobe(system: group, event: event, address: "do_sys_openat2", arguments: arguments)
                    : try DynamicEvent.kretprobe(system: group, event: event, address: "do_sys_openat2",
                                                 arguments: arguments)
            }
        }

        func roundTrip(
            _ kind: DynamicEvent.Kind, sets: Int, seed: UInt64,
            make: (String, String, [FetchArgument]) throws(TraceFSError) -> DynamicEvent
        ) throws {
            var generator = FetchArgumentGenerator(seed: seed, kind: kind, fileSize: UprobeTarget.size)
            var used = ""
            let clock = ContinuousClock()
            var total = 0
            let elapsed = try clock.measure {
                try TemporaryGroup.with("fa") { group in
                    used = group
                    for index in 0..<sets {
                        let arguments = generator.list()
                        let label = "seed \(seed) set \(index): \(arguments.map(\.description).joined(separator: " "))"
                        let probe = try make(group, "e\(index)", arguments)
                        do {
                            try probe.create()
                        } catch {
                            Issue.record("\(label): \(error)")
                            continue
                        }
                        total += arguments.count
                        let line = DynamicEventsFile.lines(ofGroup: group).first { $0.contains("/e\(index) ") }
                        #expect(line?.hasSuffix(" " + arguments.map(\.description).joined(separator: " ")) == true,
                                "\(label): listed as \(line ?? "nothing")")
                        let fields = Self.fields(group: group, event: "e\(index)")
                        #expect(fields.count == arguments.count, "\(label): \(fields)")
                        for (argument, field) in zip(arguments, fields) {
                            #expect(Self.matches(argument, field), "\(label): \(argument) shows as \(field)")
                        }
                        try probe.destroy()
                    }
                }
            }
            // Only this group: other tests (and other worktrees' runs) change the rest of the file meanwhile.
            #expect(DynamicEventsFile.lines(ofGroup: used).isEmpty)
            print("FetchArgumentRoundTripTests: \(kind): \(sets) probes, \(total) typed arguments, \(elapsed)")
        }

        /// The argument fields of `events/<group>/<event>/format`.
        static func fields(group: String, event: String) -> [Field] {
            let directory = KernelFeatures.capabilities?.tracingDirectory ?? "/sys/kernel/tracing"
            let text = readKernelFile("\(directory)/events/\(group)/\(event)/format")
            return text.split(separator: "\n").compactMap { line -> Field? in
                let parts = line.split(separator: "\t").map { $0.trimmingSuffix(";") }
                guard parts.count == 4, parts[0].hasPrefix("field:") else { return nil }
                let declaration = String(parts[0].dropFirst("field:".count))
                guard let name = declaration.split(separator: " ").last,
                      !name.hasPrefix("common_"), !name.hasPrefix("__probe_"),
                      let size = Int(parts[2].dropFirst("size:".count)) else { return nil }
                return Field(declaration: declaration, size: size, signed: parts[3] == "signed:1")
            }
        }

        /// Whether `field` is what the kernel makes of `argument`: `u64 name`, `s8 name`,
        /// `__data_loc char[] name`; arrays as `u8 name[4]` (6.1) or `u8 name[]` (6.8 and later);
        /// string arrays as `__data_loc char[][2] name`.
        static func matches(_ argument: FetchArgument, _ field: Field) -> Bool {
            let type = argument.type ?? (argument.value == .comm ? .string : .hex(64))
            switch type {
            case .array(let element, let count):
                let (name, size, signed) = scalar(element)
                if name == "__data_loc char[]" {
                    return field == Field(declaration: "__data_loc char[][\(count)] \(argument.name)", size: 4 * count, signed: true)
                }
                return [Field(declaration: "\(name) \(argument.name)[\(count)]", size: size * count, signed: signed),
                        Field(declaration: "\(name) \(argument.name)[]", size: size * count, signed: signed)].contains(field)
            default:
                let (name, size, signed) = scalar(type)
                return field == Field(declaration: "\(name) \(argument.name)", size: size, signed: signed)
            }
        }

        static func scalar(_ type: FetchType) -> (name: String, size: Int, signed: Bool) {
            switch type {
            case .unsigned(let bits), .hex(let bits): ("u\(bits)", bits / 8, false)
            case .signed(let bits): ("s\(bits)", bits / 8, true)
            case .string, .userString: ("__data_loc char[]", 4, true)
            case .symbol: ("u64", 8, false)
            case .bitfield(_, _, let container): ("u\(container)", container / 8, false)
            case .array: ("?", 0, false)
            }
        }
    }
}

extension Substring {
    func trimmingSuffix(_ suffix: String) -> Substring { hasSuffix(suffix) ? dropLast(suffix.count) : self }
}
