import Dispatch
import Foundation
import Testing
@_spi(Tools) @testable import TraceFS

#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// The kallsyms index: what it holds, when it is read again, and what it costs.
    @Suite(.serialized, .enabled(if: KernelFeatures.kallsymsReadable, "needs /proc/kallsyms"))
    struct KernelSymbolIndexTests {
        @Test func theIndexAgreesWithGrep() throws {
            let kallsyms = Kallsyms.current
            let index = try #require(KernelSymbolIndex())
            var names = ["do_sys_openat2", "vfs_read", "do_sys_openat3"]
            names += [kallsyms.nameOfSeveralFunctions(), kallsyms.copyWithoutItsFunction()?.copy,
                      kallsyms.dataSymbol(), kallsyms.moduleFunction()?.function].compactMap { $0 }
            for name in names {
                let escaped = name.replacingOccurrences(of: ".", with: "\\.")
                let functions = ChildRun.run(["/usr/bin/grep", "-cE", " [tTwW] \(escaped)(\t\\[.*\\])?$", "/proc/kallsyms"])
                let all = ChildRun.run(["/usr/bin/grep", "-cE", " [a-zA-Z] \(escaped)(\t\\[.*\\])?$", "/proc/kallsyms"])
                let expectedFunctions = Int(functions.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
                let expectedAll = Int(all.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
                #expect(Int(index.names[name]?.functions ?? 0) == expectedFunctions, "\(name)")
                #expect((index.names[name] != nil) == (expectedAll > 0), "\(name)")
            }
            #expect(index.hasFunction("do_sys_openat2"))
            #expect(!index.hasFunction("do_sys_openat3"))
            #expect(index.lineCount == readKernelFile("/proc/kallsyms").split(separator: "\n").count)
        }

        /// Addresses shown as 0 (an unprivileged reader) still give every name; modules, the
        /// blacklist and compiler-made copies are read from their own lines.
        @Test func aHandMadeKallsymsWithHiddenAddresses() throws {
            let folder = FileManager.default.temporaryDirectory.path + "/swtest_kallsyms_\(getpid())"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try """
                0000000000000000 T do_work
                0000000000000000 t helper
                0000000000000000 t helper
                0000000000000000 t do_thing.isra.0
                0000000000000000 t do_thing.constprop.0.isra.0
                0000000000000000 t do_thing.cold
                0000000000000000 D jiffies
                0000000000000000 t mod_probe\t[mymod]
                0000000000000000 t helper\t[mymod]
                0000000000000000 t bpf_prog_1234_x\t[bpf]
                0000000000000000 t exc_page_fault

                """.write(toFile: folder + "/kallsyms", atomically: true, encoding: .utf8)
            try "0x0000000000000000-0x0000000000000010\texc_page_fault\n0x1-0x2\tmod_probe [mymod]\n"
                .write(toFile: folder + "/blacklist", atomically: true, encoding: .utf8)
            let index = try #require(KernelSymbolIndex(kallsyms: folder + "/kallsyms", blacklist: folder + "/blacklist"))
            #expect(index.addressesHidden)
            #expect(index.lineCount == 11)
            #expect(index.names["do_work"] == .init(functions: 1, otherType: 0))
            #expect(index.names["helper"]?.functions == 3)
            #expect(index.moduleNames["mymod:helper"]?.functions == 1)
            #expect(index.names["jiffies"] == .init(functions: 0, otherType: UInt8(ascii: "D")))
            #expect(index.names["bpf_prog_1234_x"] == nil)
            #expect(index.modules == ["mymod"])
            #expect(index.copies["do_thing"]?.sorted() == ["do_thing.cold", "do_thing.constprop.0.isra.0", "do_thing.isra.0"])
            #expect(index.blacklist == ["exc_page_fault", "mod_probe"])
            #expect(index.functions(inModule: "mymod").sorted() == ["helper", "mod_probe"])
            #expect(KernelSymbolIndex(kallsyms: folder + "/missing") == nil)
        }

        @Test func aMissingNameRereadsOnlyAStaleIndex() throws {
            KernelSymbols.reset()
            defer { KernelSymbols.reset() }
            let builds = { KernelSymbols.state.withLock { $0.builds } }
            try KernelSymbols.check("do_sys_openat2", operation: "check")
            #expect(builds() == 1)
            // A name it has never makes it read kallsyms again; nor a name it lacks, while it is new.
            try KernelSymbols.check("vfs_read+0x4", operation: "check")
            #expect(throws: TraceFSError.self) { try KernelSymbols.check("do_sys_openat3", operation: "check") }
            #expect(builds() == 1)
            // Older than maximumAge: a name it lacks is looked up in a fresh index, a name it has is not.
            KernelSymbols.state.withLock { $0.builtAt -= KernelSymbols.maximumAge + 1 }
            try KernelSymbols.check("do_sys_openat2", operation: "check")
            #expect(builds() == 1)
            #expect(throws: TraceFSError.self) { try KernelSymbols.check("do_sys_openat3", operation: "check") }
            #expect(builds() == 2)
            // So do changed modules (a module loaded since).
            KernelSymbols.state.withLock { $0.modules = "swtest_changed 0x0" }
            #expect(throws: TraceFSError.self) { try KernelSymbols.check("do_sys_openat3", operation: "check") }
            #expect(builds() == 3)
        }

        @Test func threadsCheckingAtOnceReadKallsymsOnce() throws {
            KernelSymbols.reset()
            defer { KernelSymbols.reset() }
            let failures = Counter()
            DispatchQueue.concurrentPerform(iterations: 8) { index in
                do {
                    try KernelSymbols.check(index.isMultiple(of: 2) ? "do_sys_openat2" : "vfs_read", operation: "check")
                } catch {
                    _ = failures.next()
                }
            }
            #expect(failures.next() == 1)
            #expect(KernelSymbols.state.withLock { $0.builds } == 1)
        }

        /// Prints what the index costs: read time, memory, and a check before and after it exists.
        @Test func measurements() throws {
            KernelSymbols.reset()
            defer { KernelSymbols.reset() }
            let before = Self.residentBytes()
            var start = DispatchTime.now().uptimeNanoseconds
            var index = KernelSymbolIndex()
            let buildMs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            let bytes = Self.residentBytes() - before
            let estimate = try #require(index).estimatedBytes
            index = nil

            start = DispatchTime.now().uptimeNanoseconds
            _ = try DynamicEvent.kprobe(system: "swtest_timing", event: "e", address: "do_sys_openat2")
            let firstMs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            let rounds = 2_000
            start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<rounds {
                _ = try DynamicEvent.kprobe(system: "swtest_timing", event: "e", address: "do_sys_openat2")
            }
            let laterUs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(rounds)
            start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<rounds {
                _ = try DynamicEvent.kprobe(system: "swtest_timing", event: "e", address: "0xffffffff81000000")
            }
            let uncheckedUs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(rounds)
            start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<rounds { try KernelSymbols.check("do_sys_openat2", operation: "check") }
            let checkUs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(rounds)
            start = DispatchTime.now().uptimeNanoseconds
            _ = try? KernelSymbols.check("do_sys_openat3", operation: "check")
            let missingMs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            start = DispatchTime.now().uptimeNanoseconds
            _ = try? KernelSymbols.check("do_sys_openat3", operation: "check")
            let missingAgainMs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            print("kallsyms index: read and indexed in \(buildMs) ms, resident set +\(bytes / 1024) KiB (estimate \(estimate / 1024) KiB); kprobe descriptor: first "
                + "\(firstMs) ms, then \(laterUs) us each (\(uncheckedUs) us on a raw address, not checked); check alone \(checkUs) us; a missing name's error "
                + "\(missingMs) ms first, \(missingAgainMs) ms again")
        }

        /// VmRSS of this process, in bytes.
        static func residentBytes() -> Int {
            let status = readKernelFile("/proc/self/status")
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
            return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
        }
    }
}
