import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// Latency histograms of a real kernel function in the guest.
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && KernelFeatures.kprobes && KernelFeatures.synthetic
                                 && KernelFeatures.histograms, "needs root, kprobes, synthetic events and hist triggers"))
    struct LatencyHistogramTests {
        /// What a latency histogram made (probes, the synthetic event, its triggers in the top
        /// instance and the histogram in its own) is gone after SIGTERM, and after SIGKILL once the
        /// reaper ran.
        @Test(arguments: [SIGTERM, SIGKILL])
        func aKilledProcessesLatencyHistogramIsRemoved(signal: Int32) async throws {
            let (holder, group) = try await SessionHolder.start(.latency)
            #expect(try DynamicEvent.all(.synthetic, system: "synthetic").contains { $0.event == group })
            let tracing = KernelFeatures.capabilities?.tracingDirectory ?? "/sys/kernel/tracing"
            let exitTriggers = readKernelFile("\(tracing)/events/\(group)/exit/trigger")
            #expect(exitTriggers.split(separator: "\n").contains { $0.hasPrefix("hist:") }, "the onmatch trigger is set")
            #expect(SessionHolder.end(holder, with: signal) == signal)
            if signal == SIGKILL {
                #expect(DynamicEventsFile.lines(ofGroup: group).count == 2, "killed: the probes are orphans")
                let report = try TraceSession.removeOrphans()
                #expect(report.groups == [group])
                #expect(report.events == 3, "two probes and the synthetic event")
                #expect(report.instances == [group])
            }
            #expect(DynamicEventsFile.lines().allSatisfy { !$0.contains(group) })
            #expect(!readKernelFile("\(tracing)/synthetic_events").contains(group))
            #expect(try !Instance.names().contains(group))
        }

        @Test
        func log2LatencyOfOpensTotalsTheNumberOfCalls() throws {
            let opener = OpenerThread(count: 9)
            let latency = try LatencyHistogram(function: .kernel("do_sys_openat2"), unit: .nanoseconds, pid: opener.pid)
            defer { try? latency.end() }
            let group = latency.session.group
            #expect(try Instance.names().contains(group))
            #expect(try DynamicEvent.all(.synthetic, system: "synthetic").contains { $0.event == group })
            opener.openAndWait()
            let table = try latency.read()
            #expect(table.totals.hits == 9)
            #expect(table.rows.reduce(0) { $0 + $1.hitCount } == 9)
            for row in table.rows {
                guard case .log2(let exponent) = row.key("delta") else {
                    Issue.record("not a log2 bucket: \(row)")
                    continue
                }
                #expect((1...40).contains(exponent), "an open takes between 2 ns and 1000 s")
            }
            try latency.end()
            try latency.end()
            #expect(try !Instance.names().contains(group))
            #expect(DynamicEventsFile.lines().allSatisfy { !$0.contains(group) })
        }

        @Test
        func linearBucketsKeyedByProcess() throws {
            let opener = OpenerThread(count: 4)
            let latency = try LatencyHistogram(function: .kernel("do_sys_openat2"), unit: .microseconds,
                                               buckets: .linear(size: 1000), byProcess: true, pid: opener.pid)
            defer { try? latency.end() }
            opener.openAndWait()
            let table = try latency.read()
            #expect(table.totals.hits == 4)
            for row in table.rows {
                if case .execname(_, let pid) = row.key("common_pid") { #expect(pid == opener.pid) } else {
                    Issue.record("no execname key: \(row)")
                }
                if case .bucket(let lower, let upper) = row.key("delta") { #expect(upper - lower == 999) } else {
                    Issue.record("no linear bucket: \(row)")
                }
            }
            try latency.end()
        }
    }

    /// The helper's input is checked, and kernels without synthetic events refused, before anything
    /// is made.
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot, "needs root"))
    struct LatencyHistogramInputTests {
        @Test func badInputLeavesNothingBehind() throws {
            let events = DynamicEventsFile.lines()
            let instances = try Instance.names()
            let cases: [(TraceFSError.Code, () throws -> LatencyHistogram)] = [
                (.invalidArgument, { try LatencyHistogram(function: .kernel("do_sys_openat2"), buckets: .linear(size: 0)) }),
                (.invalidArgument, { try LatencyHistogram(function: .kernel("do_sys_openat2\n-:kprobes/x")) }),
                (.invalidArgument, { try LatencyHistogram(function: .user(file: UprobeTarget.path, offset: 1 << 40)) }),
                (.notFound, { try LatencyHistogram(function: .user(file: "/nonexistent/binary", offset: 0x100)) }),
            ]
            for (code, build) in cases {
                let error = try #require(throws: TraceFSError.self) { _ = try build() }
                #expect(error.code == code, "\(error)")
            }
            #expect(DynamicEventsFile.lines() == events)
            #expect(try Instance.names() == instances)
        }

        @Test(.enabled(if: !KernelFeatures.synthetic, "only where synthetic events are missing"))
        func unsupportedWithoutSyntheticEvents() throws {
            let instances = try Instance.names()
            let offset = try #require(ELFEntryPoint.fileOffset(of: UprobeTarget.path))
            let error = try #require(throws: TraceFSError.self) {
                _ = try LatencyHistogram(function: .user(file: UprobeTarget.path, offset: offset))
            }
            #expect(error.code == .unsupported)
            #expect(error.description.contains("CONFIG_SYNTH_EVENTS"))
            #expect(try Instance.names() == instances)
        }
    }
}
