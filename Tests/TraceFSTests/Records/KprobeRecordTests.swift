import Testing
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// Records from real kprobes on `do_sys_openat2`, on a kernel with kprobe events (the guest).
extension KernelSuite {
    @Suite(.enabled(if: KernelFeatures.isRoot && KernelFeatures.kprobes, "needs root and kprobe events"))
    struct KprobeRecordTests {
        struct OpenEvent: Decodable {
            let file: String
            let flags: UInt64
            let common_pid: Int32
        }

        @Test func kprobeRecordsFromRealOpensCarryTheFileNameAndDecode() throws {
            try TraceSession.run { session in
                try session.kprobe("open", address: "do_sys_openat2",
                                   format: "file=+0($arg2):ustring flags=+0($arg3):x64")
                try session.kretprobe("openret", address: "do_sys_openat2", format: "ret=$retval:s64 ret32=$retval:s32")
                let catalog = try session.catalog()
                #expect(try catalog.event(system: session.group, name: "open").field(named: "file")?.kind == .dynamicString)
                try session.enableAll()
                #expect(try session.instance.isEventEnabled(system: session.group, event: "open"))

                let path = "/tmp/swtest_open_\(getpid())"
                let thread = currentThreadID()
                let descriptor = open(path, O_RDONLY)  // fails with ENOENT: the probe fires anyway
                #expect(descriptor == -1)
                let existing = open("/etc/hostname", O_RDONLY)
                #expect(existing >= 0)
                close(existing)
                try session.instance.setTracing(on: false)

                var opens: [OpenEvent] = []
                var returns: [Int64] = []
                // The same return value in a 4-byte signed field: read sign-extended, both ways.
                var returns32: [(signed: Int64?, unsigned: UInt64?, value: FieldValue?)] = []
                try session.instance.readRecords(using: catalog) { record in
                    guard record.pid == thread else { return .continue }
                    if record.format.name == "open" {
                        opens.append(try record.decode(OpenEvent.self))
                    } else if record.format.name == "openret", let value = record.signed("ret") {
                        returns.append(value)
                        returns32.append((record.signed("ret32"), record.unsigned("ret32"), record.value("ret32")))
                    }
                    return .continue
                }
                #expect(opens.map(\.file).contains(path))
                #expect(opens.map(\.file).contains("/etc/hostname"))
                #expect(opens.allSatisfy { $0.common_pid == thread })
                #expect(returns.contains(-Int64(ENOENT)))
                #expect(returns.contains { $0 >= 0 })
                let failed = try #require(returns32.first { $0.signed == -Int64(ENOENT) })
                #expect(failed.unsigned == UInt64(bitPattern: -Int64(ENOENT)))
                #expect(failed.value == .signed(-Int64(ENOENT)))
            }
        }

        @Test func execOpenShowsCatOpeningTheFile() throws {
            let execOpen = ChildRun.builtProduct("exec-open")
            #expect(access(execOpen, X_OK) == 0, "build exec-open first (make test does)")
            let run = ChildRun.run([execOpen, "/bin/cat", "/etc/hostname"])
            #expect(run.status == 0, "\(run.output)")
            let lines = run.output.split(separator: "\n").map(String.init)
            let openIndex = try #require(lines.firstIndex { $0.hasSuffix("-cat: open file='/etc/hostname'") }, "\(run.output)")
            let after = lines[(openIndex + 1)...].first { $0.contains("-cat: open ret=") }
            let value = after.flatMap { $0.split(separator: "=").last }.flatMap { Int($0) }
            #expect(value.map { $0 >= 0 } == true, "\(run.output)")
            #expect(lines.allSatisfy { !$0.contains(": open") || $0.contains("-cat: ") })
            #expect(try DynamicEvent.all(system: "my_kprobes").isEmpty)
            #expect(try !Instance.names().contains("exec_open"))
        }

        @Test(arguments: [SIGINT, SIGTERM])
        func execOpenCleansUpWhenInterrupted(signal: Int32) async throws {
            let execOpen = ChildRun.builtProduct("exec-open")
            let pid = try #require(ChildRun.start([execOpen, "/bin/sleep", "60"], environment: [:]))
            var ready = false
            for _ in 0..<600 where !ready {
                ready = try DynamicEvent.all(system: "my_kprobes").count == 2 && Instance.names().contains("exec_open")
                if !ready { try await Task.sleep(for: .milliseconds(50)) }
            }
            if !ready { kill(pid, SIGKILL) }
            try #require(ready, "exec-open never set up its probes")
            try await Task.sleep(for: .milliseconds(200))  // let it reach waitpid
            kill(pid, signal)
            let status = ChildRun.wait(pid)
            #expect(status & 0x7F == 0, "exec-open died of the signal instead of handling it")
            #expect((status >> 8) & 0xFF == 128 + signal)
            #expect(try DynamicEvent.all(system: "my_kprobes").isEmpty)
            #expect(try !Instance.names().contains("exec_open"))
        }
    }
}
