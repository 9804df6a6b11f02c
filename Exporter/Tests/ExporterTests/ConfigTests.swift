import ExporterCore
import Foundation
import Testing

@Suite("Configuration")
struct ConfigTests {
    static let libc: String = "/usr/lib/x86_64-linux-gnu/libc.so.6"

    func load(_ text: String) throws(ConfigError) -> ExporterConfig {
        try ConfigLoader(file: "test.yaml", text: text).load()
    }

    func refusal(_ text: String) -> ConfigError? {
        do { _ = try load(text); return nil } catch { return error }
    }

    @Test("every example decodes and passes --check", arguments: ["uprobe-malloc.yaml", "kernel.yaml"])
    func examples(name: String) throws {
        let path = Support.packageDirectory.appendingPathComponent("examples/\(name)").path
        let config = try ConfigLoader(file: path).load()
        #expect(!config.probes.isEmpty)
        let (status, output) = try Support.run(Support.exporter, ["--config", path, "--check"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("valid"))
    }

    @Test func goodConfig() throws {
        let config = try load("""
            probes:
              - name: malloc
                type: uprobe
                file: \(Self.libc)
                symbol: malloc
                fetch_args: ["size=%di:u64"]
                filters: [{field: size, op: ">", value: "16"}]
            metrics:
              counters:
                - name: malloc_total
                  probe: malloc
                  labels: [{name: comm, field: common_pid.execname, static_map: {a: b}, regexp: ["^ls$"]}]
              histograms:
                - {name: malloc_bytes, probe: malloc, field: size, bucket_type: linear, bucket_size: 64, bucket_max: 1024}
            """)
        #expect(config.probes[0].fieldNames == ["size"])
        #expect(config.metrics.counters[0].labels?[0].staticMap == ["a": "b"])
        #expect(config.metrics.histograms[0].bucketType == .linear)
    }

    static let probe: String = """
        probes:
          - name: malloc
            type: uprobe
            file: \(libc)
            symbol: malloc
            fetch_args: ["size=%di:u64"]
        metrics:
          counters:
            - name: malloc_total
              probe: malloc

        """

    /// Each malformed config, the line and the field it must be refused at.
    static let malformed: [(String, Int, String)] = [
        ("probes:\n  - name: m\n    type: uprobe\n    file: \(libc)\n    symbol: \"malloc\\nfree\"\nmetrics: {counters: [{name: a, probe: m}]}\n",
         5, "probes[0].symbol"),
        ("probes:\n  - name: m\n    type: uprobe\n    file: \"\(libc)#x\"\n    symbol: malloc\nmetrics: {counters: [{name: a, probe: m}]}\n",
         4, "probes[0].file"),
        ("probes:\n  - name: \"m#1\"\n    type: uprobe\n    file: \(libc)\n    symbol: malloc\nmetrics: {counters: [{name: a, probe: \"m#1\"}]}\n",
         2, "probes[0].name"),
        ("probes:\n  - name: m\n    type: uprobe\n    file: \(libc)\n    offset: 184467440737095516160\nmetrics: {counters: [{name: a, probe: m}]}\n",
         5, "probes[0].offset"),
        ("probes:\n  - name: m\n    type: uprobe\n    file: \(libc)\n    symbol: malloc\n    fetch_arg: [\"x=%di\"]\nmetrics: {counters: [{name: a, probe: m}]}\n",
         6, "probes[0].fetch_arg"),
        ("probes:\n  - name: m\n    type: teleport\n    file: \(libc)\n    symbol: malloc\nmetrics: {counters: [{name: a, probe: m}]}\n",
         3, "probes[0].type"),
        ("probes:\n  - name: m\n    type: kprobe\n    address: \"do_sys_openat2\\n-:x/y\"\nmetrics: {counters: [{name: a, probe: m}]}\n",
         4, "probes[0].address"),
        ("probes:\n  - name: m\n    type: kprobe\n    address: do_sys_openat2\n    fetch_args: [\"a=%di #b\"]\nmetrics: {counters: [{name: a, probe: m}]}\n",
         5, "probes[0].fetch_args[0]"),
        (probe + "    - name: \"bad name\"\n      probe: malloc\n", 11, "metrics.counters[1].name"),
        (probe + "    - name: malloc_total\n      probe: malloc\n", 11, "metrics.counters[1].name"),
        (probe + "    - name: other\n      probe: nosuch\n", 12, "metrics.counters[1].probe"),
        (probe + "    - name: other\n      probe: malloc\n      labels: [{name: \"a\\nb\", field: common_pid}]\n", 13,
         "metrics.counters[1].labels[0].name"),
        (probe + "    - name: other\n      probe: malloc\n      labels: [{name: c, field: nosuch.execname}]\n", 13,
         "metrics.counters[1].labels[0].field"),
        (probe + "    - name: other\n      probe: malloc\n      labels: [{name: c, field: common_pid, regexp: [\"(\"]}]\n", 13,
         "metrics.counters[1].labels[0].regexp[0]"),
        (probe + "  histograms:\n    - {name: h, probe: malloc, field: size, bucket_type: exp2, bucket_max: 99999999999999999999999}\n",
         12, "metrics.histograms[0].bucket_max"),
        (probe + "  histograms:\n    - {name: h, probe: malloc, field: size, bucket_type: exp2, bucket_max: 64}\n",
         12, "metrics.histograms[0].bucket_max"),
        (probe + "  histograms:\n    - {name: h, probe: malloc, field: nosuch, bucket_type: exp2}\n",
         12, "metrics.histograms[0].field"),
        (probe + "  histograms:\n    - {name: h, latency: {function: vfs_read, unit: fortnights}, bucket_type: exp2}\n",
         12, "metrics.histograms[0].latency.unit"),
        ("probes:\n  - name: m\n    type: uprobe\n    file: \(libc)\n    symbol: malloc\n    filters: [{field: common_pid, op: \"==\", value: \"1\\\"\"}]\nmetrics: {counters: [{name: a, probe: m}]}\n",
         6, "probes[0].filters[0].value"),
        ("probes: [\n", 2, ""),
    ]

    @Test("malformed configs are refused at their file, line and field", arguments: 0..<malformed.count)
    func refusesMalformed(index: Int) throws {
        let (text, line, field) = Self.malformed[index]
        let error = try #require(refusal(text), "accepted: \(text)")
        #expect(error.file == "test.yaml")
        #expect(error.line == line, "\(error)")
        #expect(error.field == field, "\(error)")
        #expect(!error.description.dropFirst(1).contains("\n"), "\(error)")
    }

    @Test("the exporter creates nothing in the kernel when a later part of the config is bad")
    func nothingCreated() throws {
        let directory = try Support.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bad.yaml")
        // The first probe is fine; the second names a function libc does not have.
        try """
            probes:
              - {name: malloc, type: uprobe, file: \(Self.libc), symbol: malloc}
              - {name: nope, type: uprobe, file: \(Self.libc), symbol: no_such_function_here}
            metrics:
              counters: [{name: a_total, probe: malloc}]
            """.write(to: file, atomically: true, encoding: .utf8)
        let before = try String(contentsOfFile: "/sys/kernel/tracing/dynamic_events", encoding: .utf8)
        let (status, output) = try Support.run(Support.exporter, ["--config", file.path, "--listen", "127.0.0.1:19436"])
        #expect(status == 2, "\(output)")
        #expect(output.contains("bad.yaml:3:"), "\(output)")
        #expect(output.contains("probes[1].symbol"), "\(output)")
        let after = try String(contentsOfFile: "/sys/kernel/tracing/dynamic_events", encoding: .utf8)
        // Other engineers' tests may add their own events meanwhile: none may be ours.
        let added = Set(after.split(separator: "\n")).subtracting(before.split(separator: "\n"))
        #expect(!added.contains { $0.contains("/malloc ") || $0.contains("/nope ") }, "\(added)")
    }
}
