/// The exporter's configuration: the probes to create, and the metrics computed from the kernel's
/// own counts of them. Decoded from YAML by ``ConfigLoader``, which also checks every value.
public struct ExporterConfig: Decodable, Sendable, Equatable {
    /// The probes, each an event in the exporter's own group.
    public var probes: [Probe]
    /// The metrics.
    public var metrics: Metrics

    public init(probes: [Probe], metrics: Metrics) {
        self.probes = probes
        self.metrics = metrics
    }

    /// Keys of the top-level mapping.
    static let keys: Set<String> = ["probes", "metrics"]
}

/// One kprobe, kretprobe, uprobe or uretprobe.
public struct Probe: Decodable, Sendable, Equatable {
    /// What kind of probe it is.
    public enum Kind: String, Decodable, Sendable, CaseIterable {
        case kprobe, kretprobe, uprobe, uretprobe
        /// A probe on a user-space function (needs `file`).
        public var isUser: Bool { self == .uprobe || self == .uretprobe }
    }

    /// The event's name, also how metrics refer to the probe: a C identifier.
    public var name: String
    public var type: Kind
    /// Kernel probes: a symbol (`do_sys_openat2`), `symbol+offset` or an address.
    public var address: String?
    /// Kretprobes: how many calls in flight are tracked (0: the kernel's default).
    public var maxActive: UInt32?
    /// User probes: the executable or library.
    public var file: String?
    /// User probes: the function's name as `nm` lists it...
    public var symbol: String?
    /// ...or a file offset (with `symbol`: an offset into the function).
    public var offset: UInt64?
    /// Fetch arguments, each `name=spec` (`size=%di:u64`, `file=+0($arg2):ustring`).
    public var fetchArgs: [String]?
    /// Conditions (all must hold) on the events counted by this probe's histograms and keyed counters.
    public var filters: [Filter]?

    static let keys: Set<String> = ["name", "type", "address", "max_active", "file", "symbol", "offset",
                                    "fetch_args", "filters"]

    enum CodingKeys: String, CodingKey {
        case name, type, address, maxActive = "max_active", file, symbol, offset, fetchArgs = "fetch_args", filters
    }

    /// The names of the probe's fetched fields (the part before `=` of each fetch argument).
    public var fieldNames: [String] {
        (fetchArgs ?? []).compactMap { arg in arg.split(separator: "=", maxSplits: 1).first.map(String.init) }
    }
}

/// One comparison of an event filter: `field op value`.
public struct Filter: Decodable, Sendable, Equatable {
    public var field: String
    /// One of `==`, `!=`, `<`, `<=`, `>`, `>=`, `&`, `~`.
    public var op: String
    /// A number or a string (YAML scalars are read as written).
    public var value: String

    static let keys: Set<String> = ["field", "op", "value"]
}

/// The metrics section.
public struct Metrics: Decodable, Sendable, Equatable {
    public var counters: [Counter]
    public var histograms: [HistogramMetric]

    public init(counters: [Counter] = [], histograms: [HistogramMetric] = []) {
        self.counters = counters
        self.histograms = histograms
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        counters = try container.decodeIfPresent([Counter].self, forKey: .counters) ?? []
        histograms = try container.decodeIfPresent([HistogramMetric].self, forKey: .histograms) ?? []
    }

    enum CodingKeys: String, CodingKey { case counters, histograms }
    static let keys: Set<String> = ["counters", "histograms"]
}

/// A counter: a probe's hits (from `kprobe_profile`/`uprobe_profile`), or, with labels, the hits
/// counted by a hist trigger keyed by the labels' fields.
public struct Counter: Decodable, Sendable, Equatable {
    /// The metric's name (`_total` is not added).
    public var name: String
    public var help: String?
    /// The probe whose hits are counted.
    public var probe: String
    /// Labels, each from one key field of a hist trigger on the probe's event.
    public var labels: [Label]?

    static let keys: Set<String> = ["name", "help", "probe", "labels"]
}

/// One label of a keyed counter or histogram.
public struct Label: Decodable, Sendable, Equatable {
    /// The label's name.
    public var name: String
    /// The key field and its modifier: `common_pid.execname`, `id.syscall`, `ip.sym`, `flags.hex`, `size`.
    public var field: String
    /// Rewrites values: a value found here is replaced by its mapping.
    public var staticMap: [String: String]?
    /// Keeps only rows whose value matches one of these regular expressions (others are not exported).
    public var regexp: [String]?

    public init(name: String, field: String, staticMap: [String: String]? = nil, regexp: [String]? = nil) {
        self.name = name
        self.field = field
        self.staticMap = staticMap
        self.regexp = regexp
    }

    static let keys: Set<String> = ["name", "field", "static_map", "regexp"]
    enum CodingKeys: String, CodingKey { case name, field, staticMap = "static_map", regexp }
}

/// A histogram: a function's latency, or the distribution of a fetched value of a probe.
public struct HistogramMetric: Decodable, Sendable, Equatable {
    public enum BucketType: String, Decodable, Sendable { case exp2, linear }

    public var name: String
    public var help: String?
    /// The distribution of `field` of `probe`'s events...
    public var probe: String?
    public var field: String?
    /// ...or of the run time of a function.
    public var latency: Latency?
    /// `exp2`: buckets 2^bucket_min ... 2^bucket_max (the kernel's log2 keys); `linear`: buckets
    /// of `bucket_size` from bucket_min to bucket_max (the kernel's `.buckets=N`).
    public var bucketType: BucketType
    public var bucketMin: Int?
    public var bucketMax: Int?
    /// Linear only: the kernel's bucket width, in the value's unit.
    public var bucketSize: Int?
    /// Every bucket bound (and the sum) is multiplied by this, e.g. 0.000001 for microseconds as seconds.
    public var bucketMultiplier: Double?
    /// Extra labels from other key fields.
    public var labels: [Label]?

    static let keys: Set<String> = ["name", "help", "probe", "field", "latency", "bucket_type", "bucket_min",
                                    "bucket_max", "bucket_size", "bucket_multiplier", "labels"]
    enum CodingKeys: String, CodingKey {
        case name, help, probe, field, latency, bucketType = "bucket_type", bucketMin = "bucket_min",
             bucketMax = "bucket_max", bucketSize = "bucket_size", bucketMultiplier = "bucket_multiplier", labels
    }
}

/// The function whose run time a latency histogram counts.
public struct Latency: Decodable, Sendable, Equatable {
    /// A kernel function (kprobe and kretprobe)...
    public var function: String?
    /// ...or a user-space function of `file`, by `symbol` or `offset`.
    public var file: String?
    public var symbol: String?
    public var offset: UInt64?
    /// `nanoseconds` or `microseconds` (the default).
    public var unit: String?
    /// Key the histogram by process too (label `comm`).
    public var byProcess: Bool?

    static let keys: Set<String> = ["function", "file", "symbol", "offset", "unit", "by_process"]
    enum CodingKeys: String, CodingKey { case function, file, symbol, offset, unit, byProcess = "by_process" }
}
