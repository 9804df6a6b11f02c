import CTraceFS
import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Opens that only these tests make: O_CREAT|O_EXCL on an existing file with a mode no one else
/// passes, so the start filter (mode) and the end filter (ret == -EEXIST) pair exactly these.
enum MarkedOpens {
    static let mode: mode_t = 0o421
    static let startFilter = EventFilter.field("mode") == .number(Int64(mode))
    static let endFilter = EventFilter.field("ret") == .number(Int64(-EEXIST))

    static func run(_ count: Int) {
        for _ in 0..<count {
            let descriptor = open("/etc/hostname", O_RDONLY | O_CREAT | O_EXCL, mode)
            if descriptor >= 0 { close(descriptor) }
        }
    }

    static let start = SyntheticEvent.Endpoint(system: "syscalls", event: "sys_enter_openat")
    static let end = SyntheticEvent.Endpoint(system: "syscalls", event: "sys_exit_openat")
}

extension KernelSuite {
    /// Synthetic events created in the guest's kernel, their records read and histogrammed.
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && KernelFeatures.synthetic && KernelFeatures.histograms,
                                 "needs root, synthetic events and hist triggers"))
    struct SyntheticEventTests {
        struct OpenLatency: Decodable {
            let pid: Int32
            let delta: UInt64
        }

        @Test func createdListedRecordedHistogrammedAndDestroyed() throws {
            let name = TemporaryInstance.name("synth")
            let latency = try SyntheticEvent(
                name: name, start: MarkedOpens.start, end: MarkedOpens.end,
                matching: [SyntheticEvent.Match(start: "common_pid", end: "common_pid", as: "pid")],
                difference: .microseconds(as: "delta"),
                startFilter: MarkedOpens.startFilter, endFilter: MarkedOpens.endFilter)
            try latency.create()
            defer { try? latency.destroy() }
            #expect(latency.exists)
            #expect(try DynamicEvent.all(.synthetic, system: "synthetic").contains { $0.event == name && $0.kind == .synthetic })
            #expect(latency.definition?.contains("delta") == true)

            try Instance.withTemporary(named: TemporaryInstance.name("synth")) { instance in
                let histogram = try Histogram(in: instance, system: "synthetic", event: name,
                                              keys: [Histogram.Key("delta", .log2)])
                try histogram.start()
                defer { try? histogram.destroy() }
                try instance.enableEvent(system: "synthetic", event: name)
                MarkedOpens.run(3)
                try instance.disableEvent(system: "synthetic", event: name)
                let catalog = try EventCatalog.local(systems: ["synthetic"])
                var records: [OpenLatency] = []
                try instance.readRecords(using: catalog) { record in
                    records.append(try record.decode(OpenLatency.self))
                    return .continue
                }
                #expect(records.count == 3)
                #expect(records.allSatisfy { $0.pid == currentThreadID() && $0.delta < 10_000_000 })
                let table = try histogram.read()
                #expect(table.totals.hits == 3)
                for row in table.rows {
                    guard case .log2(let exponent) = row.key("delta") else {
                        Issue.record("not a log2 key: \(row)")
                        continue
                    }
                    let inBucket = records.filter { HistogramKeyValue.log2Range(exponent: exponent).contains($0.delta) }
                    #expect(UInt64(inBucket.count) == row.hitCount, "bucket 2^\(exponent)")
                }
                try histogram.destroy()
            }
            try latency.destroy()
            #expect(!latency.exists)
            try latency.destroy()
            let triggers = try #require(KernelFeatures.capabilities?.tracingDirectory) + "/events/syscalls/sys_enter_openat/trigger"
            #expect(readKernelFile(triggers).split(separator: "\n").allSatisfy { $0.hasPrefix("#") })
        }

        @Test func sqlThatCompilesCreatesTheEvent() throws {
            let name = TemporaryInstance.name("sql")
            let catalog = try EventCatalog.local(systems: ["syscalls"])
            let event = try SyntheticEvent(name: name, sql: """
                SELECT start.common_pid AS pid, (end.common_timestamp.usecs - start.common_timestamp.usecs) AS delta
                FROM syscalls.sys_enter_openat AS start JOIN syscalls.sys_exit_openat AS end
                ON start.common_pid = end.common_pid
                """, catalog: catalog)
            try event.create()
            defer { try? event.destroy() }
            #expect(event.exists)
            #expect(event.definition?.contains("delta") == true)
            #expect(event.triggers?.end.contains("onmatch(syscalls.sys_enter_openat)") == true)
            try event.destroy()
            #expect(!event.exists)
        }

        @Test func creatingTwiceSaysAlreadyExists() throws {
            let name = TemporaryInstance.name("synth")
            let make = { () throws -> SyntheticEvent in
                try SyntheticEvent(name: name, start: MarkedOpens.start, end: MarkedOpens.end,
                                   matching: [SyntheticEvent.Match(start: "common_pid", end: "common_pid", as: "pid")])
            }
            let first = try make()
            try first.create()
            defer { try? first.destroy() }
            let error = try #require(throws: TraceFSError.self) { try make().create() }
            #expect(error.code == .alreadyExists)
            try first.destroy()
        }
    }

    /// Synthetic-event input refused before anything is written, on every kernel.
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot, "needs root"))
    struct SyntheticEventBadInputTests {
        static func make(
            name: String = "swtest_bad_synth", matching: [SyntheticEvent.Match] = [SyntheticEvent.Match(start: "common_pid", end: "common_pid")],
            startFields: [SyntheticEvent.Selection] = [], difference: SyntheticEvent.Difference? = nil,
            handler: SyntheticEvent.Handler = .match, action: SyntheticEvent.Action = .trace
        ) throws -> SyntheticEvent {
            try SyntheticEvent(name: name, start: MarkedOpens.start, end: MarkedOpens.end, matching: matching,
                               startFields: startFields, difference: difference, handler: handler, action: action)
        }

        @Test func badDefinitionsAreRefused() throws {
            let before = DynamicEventsFile.lines()
            let cases: [(String, () throws -> SyntheticEvent)] = [
                ("is not valid", { try Self.make(name: "bad\nname") }),
                ("its fields are: __syscall_nr, dfd, filename, flags, mode", {
                    try Self.make(matching: [SyntheticEvent.Match(start: "nope", end: "common_pid")]) }),
                ("at least one pair", { try Self.make(matching: []) }),
                ("has no field 'nope'", { try Self.make(startFields: [SyntheticEvent.Selection("nope")]) }),
                ("synthetic field name", { try Self.make(startFields: [SyntheticEvent.Selection("dfd", as: "a b")]) }),
                ("has no field", { try Self.make(difference: SyntheticEvent.Difference(start: "filename", end: "nope", as: "d")) }),
                ("onmax/onchange fail with ENODEV", { try Self.make(handler: .max(field: "delta")) }),
                ("onmax/onchange fail with ENODEV", { try Self.make(handler: .change(field: "delta"), action: .snapshot) }),
                ("onmax/onchange fail with ENODEV", { try Self.make(action: .save(fields: ["pid"])) }),
            ]
            for (expected, build) in cases {
                let error = try #require(throws: TraceFSError.self) { _ = try build() }
                #expect(error.code == .invalidArgument)
                #expect(error.function == nil)
                #expect(error.description.contains(expected), "\(error)")
            }
            #expect(DynamicEventsFile.lines() == before)
        }

        @Test func sqlParseErrorsCarryTheParsersMessageAndPosition() throws {
            let catalog = try EventCatalog.local(systems: ["syscalls"])
            let error = try #require(throws: TraceFSError.self) {
                _ = try SyntheticEvent(name: "swtest_bad_sql",
                                       sql: "SELECT start.common_pid\nFROM FROM syscalls.sys_enter_openat AS start", catalog: catalog)
            }
            #expect(error.code == .invalidArgument)
            #expect(error.function == "tracefs_sql")
            #expect(error.reason.contains("line 2, column 6"), "\(error)")
            #expect(error.kernelMessage?.contains("ERROR: 'FROM'") == true, "\(error)")
        }

        @Test func sqlBucketCastsPointToTheBuilder() throws {
            let error = try #require(throws: TraceFSError.self) {
                _ = try SyntheticEvent(name: "swtest_bad_sql", sql: """
                    SELECT CAST(start.mode AS BUCKETS=10) AS m FROM syscalls.sys_enter_openat AS start
                    """)
            }
            #expect(error.code == .invalidArgument)
            #expect(error.function == nil)
            #expect(error.reason.contains("column 27"), "\(error)")
            #expect(error.reason.contains(".buckets(size: N)"))
        }

        @Test func sqlWithoutAJoinIsAHistogramNotAnEvent() throws {
            let catalog = try EventCatalog.local(systems: ["syscalls"])
            let error = try #require(throws: TraceFSError.self) {
                _ = try SyntheticEvent(name: "swtest_bad_sql", sql: "SELECT common_pid FROM syscalls.sys_enter_openat",
                                       catalog: catalog)
            }
            #expect(error.code == .invalidArgument)
            #expect(error.reason.contains("has no JOIN"), "\(error)")
        }

        @Test func sqlNamesWithNewlinesAreRefused() throws {
            let error = try #require(throws: TraceFSError.self) {
                _ = try SyntheticEvent(name: "a\n-:synthetic/x", sql: "SELECT 1")
            }
            #expect(error.code == .invalidArgument)
            #expect(error.function == nil)
        }

        /// The libtracefs 1.6.4 fact behind the refusal: trace() on onmax fails for any field.
        @Test func libtracefsFailsOnMaxHandlers() throws {
            let directory = try #require(KernelFeatures.capabilities?.tracingDirectory)
            let system = strdup("syscalls")
            defer { free(system) }
            let systems: [UnsafePointer<CChar>?] = [UnsafePointer(system), nil]
            let tep = try #require(tracefs_local_events_system(directory, systems))
            defer { tep_free(tep) }
            let synth = try #require(Optional(tracefs_synth_alloc(
                tep, "swtest_c", "syscalls", "sys_enter_openat", "syscalls", "sys_exit_openat",
                "common_pid", "common_pid", nil)).flatMap { $0 })
            defer { tracefs_synth_free(synth) }
            #expect(tracefs_synth_add_compare_field(synth, "common_timestamp", "common_timestamp",
                                                    TRACEFS_SYNTH_DELTA_END, "delta") == 0)
            errno = 0
            #expect(tracefs_synth_trace(synth, TRACEFS_SYNTH_HANDLE_MAX, "delta") == -1)
            #expect(errno == ENODEV)
        }
    }

    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && !KernelFeatures.synthetic, "only where synthetic events are missing"))
    struct MissingSyntheticEventTests {
        @Test func syntheticEventsAreUnsupportedNamingTheKernelOption() throws {
            let error = try #require(throws: TraceFSError.self) {
                _ = try SyntheticEvent(name: "swtest_missing", start: MarkedOpens.start, end: MarkedOpens.end,
                                       matching: [SyntheticEvent.Match(start: "common_pid", end: "common_pid")])
            }
            #expect(error.code == .unsupported)
            #expect(error.description.contains("CONFIG_SYNTH_EVENTS"))
            let sql = try #require(throws: TraceFSError.self) {
                _ = try SyntheticEvent(name: "swtest_missing", sql: """
                    SELECT start.common_pid AS pid FROM syscalls.sys_enter_openat AS start
                    JOIN syscalls.sys_exit_openat AS end ON start.common_pid = end.common_pid
                    """, catalog: try EventCatalog.local(systems: ["syscalls"]))
            }
            #expect(sql.code == .unsupported)
            #expect(sql.description.contains("CONFIG_SYNTH_EVENTS"))
        }
    }
}
