#if canImport(Glibc)
import Glibc
#endif

/// Programs the USDT tests build into a temporary directory, removed when the closure returns or
/// throws: a C program with `sys/sdt.h` probes (PIE and non-PIE), a C++ program that throws, a
/// Python script, and a C program without probes.
///
/// `probes-pie` and `probes-nopie` run a loop as many times as their first argument says; each
/// turn fires `swtf:values` (the turn's number, a global variable holding 42, the constant 5, and
/// the turn's number as a signed byte), and `swtf:guarded` behind the semaphore
/// `swtf_guarded_semaphore` with the turn's number. `thrower` throws and catches an `int` as many
/// times as its argument says. `script.py` enters the generator function `swtf_target` through
/// `close()` as many times as its first argument says, and prints the value of Python's
/// `function__entry` semaphore, read at the address given as its second argument. (Debian's
/// Python 3.11 fires `function__entry` only where a frame is entered by throwing into it, as
/// `generator.close()` does; it runs other calls without reaching the probe.)
struct USDTTestPrograms {
    struct BuildFailed: Error, CustomStringConvertible {
        let description: String
    }

    let directory: String

    func probes(_ build: SymbolTestPrograms.Build) -> String { directory + "/probes-\(build)" }
    var thrower: String { directory + "/thrower" }
    var script: String { directory + "/script.py" }
    var withoutNotes: String { directory + "/nonotes" }

    static let python = "/usr/bin/python3.11"
    static let libstdcxx = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"
    static let header = "/usr/include/x86_64-linux-gnu/sys/sdt.h"
    static let cxx = "/usr/bin/g++"

    /// As ``SymbolTestPrograms/available``: on the host, always.
    static var available: Bool { SymbolTestPrograms.available }

    static let probesSource = """
        #include <sys/sdt.h>
        #include <stdlib.h>
        long swtf_global = 42;
        void swtf_guarded(int i);
        int main(int argc, char **argv) {
            int count = argc > 1 ? atoi(argv[1]) : 0;
            for (int i = 0; i < count; i++) {
                signed char small = (signed char)-i;
                DTRACE_PROBE4(swtf, values, i, swtf_global, 5, small);
                swtf_guarded(i);
            }
            return 0;
        }
        """
    /// `_SDT_HAS_SEMAPHORES` gives every probe of its compilation unit a semaphore.
    static let guardedSource = """
        #define _SDT_HAS_SEMAPHORES 1
        #include <sys/sdt.h>
        __extension__ unsigned short swtf_guarded_semaphore __attribute__((unused, section(".probes")));
        __attribute__((noinline)) void swtf_guarded(int i) {
            if (__builtin_expect(swtf_guarded_semaphore, 0)) DTRACE_PROBE1(swtf, guarded, i);
        }
        """
    static let throwerSource = """
        #include <cstdlib>
        int main(int argc, char **argv) {
            int count = argc > 1 ? std::atoi(argv[1]) : 0;
            int caught = 0;
            for (int i = 0; i < count; i++) {
                try { throw i; } catch (int) { caught++; }
            }
            return caught == count ? 0 : 1;
        }
        """
    static let scriptSource = """
        import ctypes, sys
        def swtf_target():
            yield
        for _ in range(int(sys.argv[1])):
            generator = swtf_target()
            next(generator)
            generator.close()
        print(ctypes.c_ushort.from_address(int(sys.argv[2], 16)).value)
        """

    static func with<Result>(_ body: (USDTTestPrograms) throws -> Result) throws -> Result {
        var template = Array("/tmp/swtf_usdt_XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw BuildFailed(description: "mkdtemp failed: errno \(errno)") }
        let programs = USDTTestPrograms(directory: String(cString: made))
        defer { programs.remove() }
        try programs.build()
        return try body(programs)
    }

    private func build() throws {
        try write(Self.probesSource, to: directory + "/probes.c")
        try write(Self.guardedSource, to: directory + "/guarded.c")
        try write(Self.throwerSource, to: directory + "/thrower.cc")
        try write(Self.scriptSource, to: script)
        try write("int main(void) { return 0; }\n", to: directory + "/nonotes.c")
        for build in SymbolTestPrograms.Build.allCases {
            try compile(SymbolTestPrograms.compiler, ["-O2"] + build.flags + ["-o", probes(build), directory + "/probes.c",
                                                                   directory + "/guarded.c"])
        }
        try compile(Self.cxx, ["-O1", "-o", thrower, directory + "/thrower.cc"])
        try compile(SymbolTestPrograms.compiler, ["-o", withoutNotes, directory + "/nonotes.c"])
    }

    private func compile(_ compiler: String, _ arguments: [String]) throws {
        let run = ChildRun.run([compiler] + arguments)
        guard run.status == 0 else { throw BuildFailed(description: "\(compiler) \(arguments.joined(separator: " ")): \(run.output)") }
    }

    private func write(_ text: String, to path: String) throws {
        guard let file = fopen(path, "w") else { throw BuildFailed(description: "cannot write \(path)") }
        defer { fclose(file) }
        fputs(text, file)
    }

    private func remove() {
        for name in ["probes.c", "guarded.c", "thrower.cc", "script.py", "nonotes.c", "nonotes", "thrower"]
            + SymbolTestPrograms.Build.allCases.map({ "probes-\($0)" }) {
            unlink(directory + "/" + name)
        }
        rmdir(directory)
    }
}

/// What `readelf -n` says about a file's USDT notes, parsed independently of the code under test.
enum ReadelfNotes {
    struct Probe: Equatable {
        var provider = "", name = ""
        var location: UInt64 = 0, base: UInt64 = 0, semaphore: UInt64 = 0
        var arguments: [String] = []
    }

    static func probes(in file: String) -> [Probe] {
        let output = ChildRun.run([Readelf.path, "-n", file]).output
        var probes: [Probe] = []
        var current: Probe?
        func hex(_ text: Substring) -> UInt64 { UInt64(text.trimmingPrefix("0x").prefix(while: \.isHexDigit), radix: 16) ?? 0 }
        for line in output.split(separator: "\n") {
            let text = line.drop(while: { $0 == " " })
            if text.hasPrefix("stapsdt ") {
                if let current { probes.append(current) }
                current = Probe()
            } else if text.hasPrefix("Provider: ") {
                current?.provider = String(text.dropFirst("Provider: ".count))
            } else if text.hasPrefix("Name: ") {
                current?.name = String(text.dropFirst("Name: ".count))
            } else if text.hasPrefix("Location: ") {
                // "Location: 0x...04f20a1, Base: 0x...08cc5a0, Semaphore: 0x...0a84260"
                let fields = text.split(separator: ",").map { $0.split(separator: ":").last!.drop(while: { $0 == " " }) }
                current?.location = hex(fields[0])
                current?.base = hex(fields[1])
                current?.semaphore = hex(fields[2])
            } else if text.hasPrefix("Arguments:") {
                current?.arguments = text.dropFirst("Arguments:".count).split(separator: " ").map(String.init)
            } else if !text.hasPrefix("Owner") && !text.hasPrefix("Displaying"), let done = current {
                probes.append(done)
                current = nil
            }
        }
        if let current { probes.append(current) }
        return probes
    }

    /// The address of section `name` and its file offset (`readelf -SW`).
    static func section(_ name: String, in file: String) -> (address: UInt64, offset: UInt64)? {
        for line in ChildRun.run([Readelf.path, "-SW", file]).output.split(separator: "\n") {
            // "  [27] .probes           PROGBITS        0000000000a84260 683260 000018 00  WA  0   0  2"
            let fields = line.split(separator: " ").drop { $0.hasPrefix("[") || $0.hasSuffix("]") }
            guard let first = fields.first, first == name else { continue }
            let rest = Array(fields.dropFirst())
            guard rest.count >= 3, let address = UInt64(rest[1], radix: 16), let offset = UInt64(rest[2], radix: 16) else {
                return nil
            }
            return (address, offset)
        }
        return nil
    }
}
