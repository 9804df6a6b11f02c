import Foundation
import Testing
@_spi(Tools) @testable import TraceFS

#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// The symbol check on a kernel with kprobe events (the guest run requires them): a wrong name
    /// is refused by the overlay before anything is written, a right one still probes.
    @Suite(.serialized, .enabled(if: KernelFeatures.isRoot && KernelFeatures.kprobes, "needs root and kprobe events"))
    struct KernelSymbolGuestTests {
        @Test func aCloseButWrongNameIsRefusedBeforeWritingWithTheRealOne() throws {
            try #require(!Kallsyms.current.has("do_sys_openat3"))
            try TemporaryGroup.with("sym") { group in
                let before = DynamicEventsFile.lines()
                let calls: [(String, () throws -> Void)] = [
                    ("kprobe", { _ = try DynamicEvent.kprobe(system: group, event: "e", address: "do_sys_openat3") }),
                    ("kretprobe", { _ = try DynamicEvent.kretprobe(system: group, event: "e", address: "do_sys_openat3+0x4") }),
                    ("createKprobe", { try DynamicEvent.createKprobe(system: group, event: "e", address: "do_sys_openat3") }),
                    ("createKretprobe", { try DynamicEvent.createKretprobe(system: group, event: "e", address: "do_sys_openat3") }),
                ]
                for (label, call) in calls {
                    let error = try #require(throws: TraceFSError.self, "\(label)") { try call() }
                    #expect(error.code == .notFound, "\(label): \(error)")
                    // The overlay's refusal: no C call failed and the kernel said nothing.
                    #expect(error.function == nil && error.kernelMessage == nil, "\(label): \(error)")
                    #expect(error.reason.contains("did you mean do_sys_openat2"), "\(label): \(error.reason)")
                }
                #expect(Set(DynamicEventsFile.lines()).subtracting(before).isEmpty)
                #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
            }
        }

        @Test func aRealSymbolStillCreatesAndHits() throws {
            try TemporaryGroup.with("sym") { group in
                let probe = try DynamicEvent.kprobe(system: group, event: "getppid", address: "__x64_sys_getppid")
                try probe.create()
                try Instance.withTemporary(named: TemporaryInstance.name("sym")) { instance in
                    try instance.enableEvent(system: group, event: "getppid")
                    let before = try #require(try probe.hits())
                    for _ in 0..<10 { _ = getppid() }
                    let after = try #require(try probe.hits())
                    #expect(after.hits - before.hits == 10)
                    try instance.disableEvent(system: group, event: "getppid")
                }
                try probe.destroy()
                #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
            }
        }

        @Test func aModuleFunctionCreates() throws {
            guard let found = Kallsyms.current.moduleFunction() else {
                print("skipped: no module is loaded")
                return
            }
            try TemporaryGroup.with("symmod") { group in
                let probe = try DynamicEvent.kprobe(system: group, event: "e", address: "\(found.module):\(found.function)")
                do {
                    try probe.create()
                    try probe.destroy()
                } catch let error as TraceFSError where error.kernelMessage != nil {
                    // Some module functions are not probeable (notrace, blacklisted while debugfs is
                    // unmounted); the kernel's refusal is not the overlay's.
                    print("the kernel refused \(found.module):\(found.function): \(error)")
                }
                #expect(DynamicEventsFile.lines(ofGroup: group).isEmpty)
            }
        }

        /// What this kernel does with a name that several functions have, written directly to
        /// kprobe_events (the overlay refuses it): 6.1 before the stable fix probes the first,
        /// later ones refuse with EADDRNOTAVAIL. Printed for the record.
        @Test func whatTheKernelDoesWithANameOfSeveralFunctions() throws {
            guard let name = Kallsyms.current.nameOfSeveralFunctions() else { return }
            let error = try #require(throws: TraceFSError.self) {
                try DynamicEvent.createKprobe(system: "swtest_several", event: "e", address: name)
            }
            #expect(error.code == .invalidArgument)
            let path = (KernelFeatures.capabilities?.tracingDirectory ?? "/sys/kernel/tracing") + "/kprobe_events"
            let descriptor = open(path, O_WRONLY | O_APPEND)
            try #require(descriptor >= 0)
            defer { close(descriptor) }
            let line = "p:swtest_several/e \(name)\n"
            let written = write(descriptor, line, line.utf8.count)
            let writeErrno = errno
            print("kernel \(readKernelFile("/proc/sys/kernel/osrelease").trimmingCharacters(in: .whitespacesAndNewlines)), kprobe on \(name) "
                + "(\(Kallsyms.current.functionCounts[Substring(name)] ?? 0) functions): "
                + (written >= 0 ? "accepted" : "refused, errno \(writeErrno) \(String(cString: strerror(writeErrno)))"))
            if written >= 0 {
                let removal = "-:swtest_several/e\n"
                _ = write(descriptor, removal, removal.utf8.count)
            } else {
                #expect(writeErrno == EADDRNOTAVAIL || writeErrno == EINVAL || writeErrno == ENOENT)
            }
            #expect(DynamicEventsFile.lines(ofGroup: "swtest_several").isEmpty)
        }
    }
}
