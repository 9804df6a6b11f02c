import Logging
import Prometheus
import Synchronization
import TraceFS
#if canImport(Glibc)
import Glibc
#endif

/// The probes, triggers and latency histograms of one configuration in the kernel, and the
/// metrics computed from the kernel's own counts of them at each scrape.
///
/// Everything lives in one ``TraceSession`` (generated group and instance names), so that
/// ``shutdown()`` removes exactly what this run made and `TraceSession.removeOrphans()` recognises
/// what a killed run left.
public final class ExporterRuntime {
    public let config: ExporterConfig
    private let logger: Logger
    private let state: Mutex<State>
    /// The exporter's own metrics.
    public let registry = PrometheusCollectorRegistry()
    private let scrapeDuration: DurationHistogram
    private let scrapeErrors: Prometheus.Counter
    private let probesArmed: Gauge

    private struct State {
        var session: TraceSession?
        /// The hist trigger of each keyed counter and fetched-value histogram, by metric name.
        var triggers: [String: TraceFS.Histogram] = [:]
        /// Latency histograms and the trigger (with the summed delta) read from each, by metric name.
        var latencies: [String: (LatencyHistogram, TraceFS.Histogram)] = [:]
        var ended = false
    }

    public init(config: ExporterConfig, logger: Logger) {
        self.config = config
        self.logger = logger
        state = Mutex(State())
        scrapeDuration = registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "tracefs_exporter", metricName: "scrape_duration", unitName: "seconds",
                                             helpText: "Time to read the kernel's counts and render them"),
            buckets: [.milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2)])
        scrapeErrors = registry.makeCounter(descriptor: MetricNameDescriptor(
            namespace: "tracefs_exporter", metricName: "scrape_errors", unitName: "total",
            helpText: "Metrics that could not be read from the kernel at a scrape"))
        probesArmed = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "tracefs_exporter", metricName: "probes", unitName: "armed",
            helpText: "Probes this exporter has in the kernel"))
    }

    /// The kernel features the configuration needs that `capabilities` lacks, as config errors.
    public static func missingFeatures(
        _ config: ExporterConfig, capabilities: TracingCapabilities, loader: ConfigLoader
    ) -> [ConfigError] {
        var errors: [ConfigError] = []
        var hist: Set<String> = []
        for counter in config.metrics.counters where !(counter.labels ?? []).isEmpty { hist.insert(counter.probe) }
        for (index, probe) in config.probes.enumerated() {
            let path: [ConfigPath] = [.key("probes"), .index(index), .key("type")]
            let kind: DynamicEvent.Kind = switch probe.type {
            case .kprobe: .kprobe
            case .kretprobe: .kretprobe
            case .uprobe: .uprobe
            case .uretprobe: .uretprobe
            }
            if !capabilities.supports(kind) {
                errors.append(loader.error(at: path, probe.type.isUser
                    ? "this kernel has no uprobe events (CONFIG_UPROBE_EVENTS)"
                    : "this kernel has no kprobe events (CONFIG_KPROBE_EVENTS), or lockdown refuses them"))
            }
        }
        for (index, counter) in config.metrics.counters.enumerated() where !(counter.labels ?? []).isEmpty && !capabilities.histograms {
            errors.append(loader.error(at: [.key("metrics"), .key("counters"), .index(index), .key("labels")],
                                       "labels need hist triggers, which this kernel lacks (CONFIG_HIST_TRIGGERS); drop the labels to count probe hits"))
        }
        for (index, histogram) in config.metrics.histograms.enumerated() {
            let path: [ConfigPath] = [.key("metrics"), .key("histograms"), .index(index)]
            if !capabilities.histograms {
                errors.append(loader.error(at: path, "histograms need hist triggers, which this kernel lacks (CONFIG_HIST_TRIGGERS)"))
            }
            if let latency = histogram.latency {
                if !capabilities.syntheticEvents {
                    errors.append(loader.error(at: path + [.key("latency")], "latency needs synthetic events (CONFIG_SYNTH_EVENTS)"))
                }
                if latency.function != nil, !capabilities.kprobeEvents {
                    errors.append(loader.error(at: path + [.key("latency"), .key("function")],
                                               "a kernel function's latency needs kprobe events (CONFIG_KPROBE_EVENTS)"))
                }
            }
        }
        return errors
    }

    /// Creates everything in the kernel. On failure, removes what it made and throws.
    public func arm() throws {
        do {
            try state.withLock { state in
                let session = try TraceSession()
                state.session = session
                var hooked: Set<String> = []
                for probe in config.probes {
                    let args = probe.fetchArgs?.joined(separator: " ")
                    switch probe.type {
                    case .kprobe: try session.kprobe(kernelName(probe.name), address: probe.address ?? "", format: args)
                    case .kretprobe:
                        try session.kretprobe(kernelName(probe.name), address: probe.address ?? "", format: args, maxActive: probe.maxActive ?? 0)
                    case .uprobe:
                        if let symbol = probe.symbol {
                            try session.uprobe(kernelName(probe.name), file: probe.file ?? "", symbol: symbol, offset: probe.offset ?? 0, fetchArgs: args)
                        } else {
                            try session.uprobe(kernelName(probe.name), file: probe.file ?? "", offset: probe.offset ?? 0, fetchArgs: args)
                        }
                    case .uretprobe:
                        if let symbol = probe.symbol {
                            try session.uretprobe(kernelName(probe.name), file: probe.file ?? "", symbol: symbol, fetchArgs: args)
                        } else {
                            try session.uretprobe(kernelName(probe.name), file: probe.file ?? "", offset: probe.offset ?? 0, fetchArgs: args)
                        }
                    }
                }
                let probes = Dictionary(uniqueKeysWithValues: config.probes.map { ($0.name, $0) })
                let needsTriggers = config.metrics.counters.contains { !($0.labels ?? []).isEmpty }
                    || config.metrics.histograms.contains { $0.probe != nil }
                let catalog = needsTriggers ? try session.catalog() : nil
                for counter in config.metrics.counters where !(counter.labels ?? []).isEmpty {
                    let rules = (counter.labels ?? []).map(LabelRule.init)
                    let trigger = try TraceFS.Histogram(in: session.instance, system: session.group, event: kernelName(counter.probe),
                                                keys: rules.map(\.key), filter: Self.filter(probes[counter.probe]),
                                                catalog: catalog)
                    try trigger.start()
                    state.triggers[counter.name] = trigger
                    hooked.insert(counter.probe)
                }
                for histogram in config.metrics.histograms {
                    let buckets = Buckets(checked: histogram)
                    let rules = (histogram.labels ?? []).map(LabelRule.init)
                    if let probeName = histogram.probe, let field = histogram.field {
                        let trigger = try TraceFS.Histogram(in: session.instance, system: session.group, event: kernelName(probeName),
                                                    keys: [buckets.key(field)] + rules.map(\.key), values: [field],
                                                    filter: Self.filter(probes[probeName]), catalog: catalog)
                        try trigger.start()
                        state.triggers[histogram.name] = trigger
                        hooked.insert(probeName)
                    } else if let latency = histogram.latency {
                        let function: LatencyHistogram.Function = if let kernel = latency.function {
                            .kernel(kernel)
                        } else {
                            try ConfigChecks.userFunction(file: latency.file ?? "", symbol: latency.symbol, offset: latency.offset)
                        }
                        let made = try LatencyHistogram(function: function,
                                                        unit: latency.unit == "nanoseconds" ? .nanoseconds : .microseconds,
                                                        byProcess: latency.byProcess ?? false)
                        // A trigger of our own on the same synthetic event, which also sums `delta`.
                        var keys = [buckets.key("delta")] + rules.map(\.key)
                        if latency.byProcess == true { keys.append(TraceFS.Histogram.Key("common_pid", .execname)) }
                        let synthetic = try EventCatalog.local(systems: [SyntheticEvent.system])
                        do {
                            let trigger = try TraceFS.Histogram(in: made.session.instance, system: SyntheticEvent.system,
                                                        event: made.session.group, keys: keys, values: ["delta"],
                                                        catalog: synthetic)
                            try trigger.start()
                            state.latencies[histogram.name] = (made, trigger)
                        } catch {
                            try? made.end()
                            throw error
                        }
                    }
                }
                // A probe with a hist trigger fires for it (the kernel soft-enables its event);
                // the others are enabled so that the kernel counts their hits, with the
                // instance's recording off, so that no event is written to a buffer.
                for probe in config.probes where !hooked.contains(probe.name) {
                    try session.instance.enableEvent(system: session.group, event: kernelName(probe.name))
                }
                try session.instance.setTracing(on: false)
                probesArmed.set(to: Double(session.events.count))
                logger.info("armed", metadata: ["group": "\(session.group)", "probes": "\(session.events.count)"])
            }
        } catch {
            try? shutdown()
            throw error
        }
    }

    /// The kernel's name of a probe's event: the configured name and this process's id.
    /// `kprobe_profile` and `uprobe_profile` name events without their group, so a name of its own
    /// keeps another tool's (or another exporter's) event of the same name out of our counts.
    func kernelName(_ name: String) -> String { "\(name)_\(pid)" }
    private let pid = getpid()


    static func filter(_ probe: Probe?) -> EventFilter? {
        let conditions = (probe?.filters ?? []).compactMap { filter -> EventFilter? in
            guard let comparison = ConfigChecks.operators[filter.op] else { return nil }
            let value: EventFilter.Value = if let number = Int64(filter.value) {
                .number(number)
            } else if let number = UInt64(filter.value) {
                .unsignedNumber(number)
            } else {
                .string(filter.value)
            }
            return .compare(field: filter.field, comparison, value)
        }
        guard var combined = conditions.first else { return nil }
        for condition in conditions.dropFirst() { combined = combined && condition }
        return combined
    }

    /// The metrics now, in text format 0.0.4.
    public func scrape() -> String {
        let start = ContinuousClock.now
        var out = Exposition()
        var errors = 0
        var dropped: [Exposition.Sample] = []
        state.withLock { state in
            guard let session = state.session, !state.ended else { return }
            let profile: ProbeProfile?
            do { profile = try ProbeProfile.read() } catch {
                logger.warning("cannot read the probe profiles", metadata: ["error": "\(error)"])
                profile = nil
            }
            let probes = Dictionary(uniqueKeysWithValues: config.probes.map { ($0.name, $0) })
            let created = Dictionary(session.events.map { ($0.event, $0) }, uniquingKeysWith: { first, _ in first })
            for counter in config.metrics.counters {
                if let trigger = state.triggers[counter.name] {
                    do {
                        let table = try trigger.read()
                        out.counter(counter.name, help: counter.help,
                                    samples: KernelMetrics.counterSamples(table, labels: (counter.labels ?? []).map(LabelRule.init)))
                        dropped.append(Exposition.Sample(labels: [("metric", counter.name)], value: table.totals.dropped))
                    } catch {
                        errors += 1
                        logger.warning("cannot read a hist trigger", metadata: ["metric": "\(counter.name)", "error": "\(error)"])
                    }
                    continue
                }
                guard let profile, let probe = probes[counter.probe] else { errors += 1; continue }
                let hits: ProbeHits? = if probe.type.isUser {
                    profile.userProbes.first { entry in
                        entry.event == kernelName(probe.name) && (created[kernelName(probe.name)]?.address.map { $0.hasPrefix((entry.file ?? "") + ":") } ?? true)
                    }
                } else {
                    profile.kernelProbe(named: kernelName(probe.name))
                }
                guard let hits else { errors += 1; continue }
                out.counter(counter.name, help: counter.help, samples: [Exposition.Sample(labels: [], value: hits.hits)])
            }
            for histogram in config.metrics.histograms {
                let buckets = Buckets(checked: histogram)
                var rules = (histogram.labels ?? []).map(LabelRule.init)
                let table: HistogramTable
                do {
                    if let trigger = state.triggers[histogram.name] {
                        table = try trigger.read()
                    } else if let (_, trigger) = state.latencies[histogram.name] {
                        table = try trigger.read()
                        if histogram.latency?.byProcess == true {
                            rules.append(LabelRule(Label(name: "comm", field: "common_pid.execname")))
                        }
                    } else {
                        errors += 1
                        continue
                    }
                } catch {
                    errors += 1
                    logger.warning("cannot read a histogram", metadata: ["metric": "\(histogram.name)", "error": "\(error)"])
                    continue
                }
                let field = histogram.field ?? "delta"
                out.histogram(histogram.name, help: histogram.help,
                              series: KernelMetrics.histogramSeries(table, bucketField: field, buckets: buckets,
                                                                    labels: rules, sumField: field))
                dropped.append(Exposition.Sample(labels: [("metric", histogram.name)], value: table.totals.dropped))
            }
        }
        if !dropped.isEmpty {
            out.counter("tracefs_exporter_hist_dropped_total",
                        help: "Events the kernel's hist tables could not count because they were full", samples: dropped)
        }
        if errors > 0 { scrapeErrors.increment(by: Int64(errors)) }
        scrapeDuration.record(ContinuousClock.now - start)
        out.append(registry.emitToString())
        return out.text
    }

    /// Removes every trigger, latency histogram, probe and the instance this run made. Safe to call twice.
    public func shutdown() throws {
        try state.withLock { state in
            guard !state.ended else { return }
            var failure: (any Error)?
            for (_, trigger) in state.triggers {
                do { try trigger.destroy() } catch { failure = failure ?? error }
            }
            for (_, (latency, trigger)) in state.latencies {
                do { try trigger.destroy() } catch { failure = failure ?? error }
                do { try latency.end() } catch { failure = failure ?? error }
            }
            do { try state.session?.end() } catch { failure = failure ?? error }
            if let failure { throw failure }
            state.triggers = [:]
            state.latencies = [:]
            state.ended = true
            probesArmed.set(to: 0)
            logger.info("removed everything this run made")
        }
    }
}

// Sendable: `config`, the logger and the swift-prometheus metrics are immutable or Sendable; the
// session and the kernel objects sit behind the mutex.
extension ExporterRuntime: @unchecked Sendable {}
