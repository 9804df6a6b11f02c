import Testing
@_spi(Tools) @testable import TraceFS

#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// kprobe places checked against the running kernel's kallsyms before anything is written
    /// (issue 12, part 3). On a kernel without kprobe events (this host) the factories say that
    /// first, with what is wrong with the symbol after it; the check itself is tested directly.
    @Suite(.serialized, .enabled(if: KernelFeatures.kallsymsReadable, "needs /proc/kallsyms"))
    struct KernelSymbolCheckTests {
        var kallsyms: Kallsyms { .current }

        /// The error `body` throws, after checking that the factories throw the same (or, without
        /// kprobe events, `unsupported` naming the feature first) and that nothing was written.
        func refusal(_ address: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> TraceFSError {
            let error = try #require(throws: TraceFSError.self, sourceLocation: sourceLocation) {
                try KernelSymbols.check(address, operation: "check \(address)")
            }
            let before = DynamicEventsFile.lines()
            let factories: [(String, () throws -> Void)] = [
                ("kprobe", { _ = try DynamicEvent.kprobe(system: "swtest_sym", event: "e", address: address) }),
                ("kretprobe", { _ = try DynamicEvent.kretprobe(system: "swtest_sym", event: "e", address: address) }),
                ("createKprobe", { try DynamicEvent.createKprobe(system: "swtest_sym", event: "e", address: address) }),
                ("createKretprobe", { try DynamicEvent.createKretprobe(system: "swtest_sym", event: "e", address: address) }),
            ]
            for (label, factory) in factories {
                let thrown = try #require(throws: TraceFSError.self, "\(label)", sourceLocation: sourceLocation) { try factory() }
                #expect(thrown.function == nil && thrown.kernelMessage == nil, "\(label): \(thrown)", sourceLocation: sourceLocation)
                if KernelFeatures.capabilities?.kprobeEvents == false {
                    #expect(thrown.code == .unsupported, "\(label)", sourceLocation: sourceLocation)
                    #expect(thrown.reason.hasPrefix("this kernel has no kprobe events (CONFIG_KPROBE_EVENTS)"),
                            "\(thrown.reason)", sourceLocation: sourceLocation)
                    #expect(thrown.reason.hasSuffix(error.reason), "\(label)", sourceLocation: sourceLocation)
                } else {
                    #expect(thrown.code == error.code && thrown.reason == error.reason, "\(label): \(thrown)",
                            sourceLocation: sourceLocation)
                }
            }
            // Only new lines of this package's test groups count: other tools on the host may add
            // and remove their own events meanwhile.
            #expect(Set(DynamicEventsFile.lines()).subtracting(before).filter { $0.contains(":swtest_") }.isEmpty,
                    "\(address)", sourceLocation: sourceLocation)
            #expect(DynamicEventsFile.lines(ofGroup: "swtest_sym").isEmpty, sourceLocation: sourceLocation)
            return error
        }

        @Test func aMisspeltNameIsNotFoundAndTheRealOneSuggested() throws {
            try #require(!kallsyms.has("do_sys_openat3") && kallsyms.has("do_sys_openat2"))
            for address in ["do_sys_openat3", "do_sys_openat3+0x4"] {
                let error = try refusal(address)
                #expect(error.code == .notFound)
                #expect(error.reason.contains("the kernel has no function 'do_sys_openat3'"), "\(error.reason)")
                #expect(error.reason.contains("did you mean do_sys_openat2"), "\(error.reason)")
            }
            // Case matters to the kernel: the right spelling comes first among the suggestions.
            let cased = try refusal("Do_Sys_Openat2")
            #expect(cased.code == .notFound)
            #expect(cased.reason.contains("did you mean do_sys_openat2"), "\(cased.reason)")
            // The brief's example: on 6.1 and 6.18 do_sys_open is a real function, so it passes.
            if kallsyms.functionCounts["do_sys_open"] == 1 { try KernelSymbols.check("do_sys_open", operation: "check") }
        }

        @Test func realFunctionsPass() throws {
            for address in ["do_sys_openat2", "vfs_read+0x4", "do_sys_openat2+0"] {
                try KernelSymbols.check(address, operation: "check")
                _ = try DynamicEvent.kprobe(system: "swtest_sym", event: "e", address: address)
                _ = try DynamicEvent.kretprobe(system: "swtest_sym", event: "e", address: address)
            }
        }

        @Test func rawAddressesAreNotChecked() throws {
            #expect(KernelSymbols.Place("0xffffffff81000000") == nil)
            #expect(KernelSymbols.Place("18446744071578845184") == nil)
            try KernelSymbols.check("0xffffffff81000000", operation: "check")
            _ = try DynamicEvent.kprobe(system: "swtest_sym", event: "e", address: "0xffffffff81000000")
            // A module whose name starts with a digit is still a module, as the kernel reads it.
            #expect(KernelSymbols.Place("9p:v9fs_mount")?.module == "9p")
            #expect(KernelSymbols.Place("0x1g")?.symbol == "0x1g")
            let place = try #require(KernelSymbols.Place("ext4:ext4_file_open+0x4"))
            #expect(place.module == "ext4" && place.symbol == "ext4_file_open")
        }

        @Test func theCompilerMadeCopyIsSuggestedForItsPlainName() throws {
            let found = try #require(kallsyms.copyWithoutItsFunction(), "this kernel has no .isra/.constprop/.part copy")
            let error = try refusal(found.function)
            #expect(error.code == .notFound)
            #expect(error.reason.contains("did you mean \(found.copy) (a compiler-made copy)"), "\(error.reason)")
            // The copy itself is a function like any other.
            try KernelSymbols.check(found.copy, operation: "check")
        }

        @Test func aNameOfSeveralFunctionsIsRefusedWithTheirAddresses() throws {
            let name = try #require(kallsyms.nameOfSeveralFunctions(), "no name with several functions")
            let count = try #require(kallsyms.functionCounts[Substring(name)])
            let error = try refusal(name)
            #expect(error.code == .invalidArgument)
            #expect(error.reason.contains("names \(count) functions"), "\(error.reason)")
            #expect(error.reason.contains("give the address of the one to probe"), "\(error.reason)")
            let addresses = kallsyms.lines.filter { $0.name == name && $0.isFunction }.map { "0x\($0.address)" }
            if addresses.contains(where: { $0 != "0x0000000000000000" }) {
                for address in addresses { #expect(error.reason.contains(address), "\(address): \(error.reason)") }
            }
            #expect(try refusal(name + "+0x4").code == .invalidArgument)
        }

        @Test func aDataSymbolIsNotAFunction() throws {
            let name = try #require(kallsyms.dataSymbol(), "no data symbol in kallsyms")
            let error = try refusal(name)
            #expect(error.code == .invalidArgument)
            #expect(error.reason.contains("is a data symbol"), "\(error.reason)")
        }

        @Test func moduleSymbolsAreCheckedInTheirModule() throws {
            guard let found = kallsyms.moduleFunction() else {
                print("skipped: no module is loaded (this kernel has \(KernelFile.exists("/proc/modules") ? "none loaded" : "no modules"))")
                return
            }
            try KernelSymbols.check("\(found.module):\(found.function)", operation: "check")
            try KernelSymbols.check("\(found.module):\(found.function)+0x4", operation: "check")
            let error = try refusal("\(found.module):\(found.function)x")
            #expect(error.code == .notFound)
            #expect(error.reason.contains("module '\(found.module)' has no function '\(found.function)x'"), "\(error.reason)")
            #expect(error.reason.contains("did you mean \(found.function)"), "\(error.reason)")
            // A kernel function is not in the module.
            #expect(try refusal("\(found.module):do_sys_openat2").code == .notFound)
        }

        @Test func aModuleThatIsNotLoadedIsLeftToTheKernel() throws {
            // The kernel keeps such a probe and arms it when the module is loaded.
            try #require(!KernelSymbols.loadedModules().contains("swtest_nomodule"))
            try KernelSymbols.check("swtest_nomodule:some_function", operation: "check")
        }
    }
}
