#if canImport(Glibc)
import Glibc
#endif

/// C programs the symbol tests build with `cc` into a temporary directory, removed when the
/// closure returns or throws.
///
/// `program` calls `swtf_target` (no inlining) as many times as its first argument says; it also
/// has an alias of it (`swtf_alias`), a data symbol (`swtf_data`), and two static functions named
/// `swtf_twin` in two compilation units. `nosyms` is a static executable stripped of every symbol.
struct SymbolTestPrograms {
    enum Build: String, CaseIterable, CustomStringConvertible {
        case pie, nonPIE
        var flags: [String] { self == .pie ? ["-pie", "-fPIE"] : ["-no-pie", "-fno-pie"] }
        var description: String { rawValue }
    }

    struct BuildFailed: Error, CustomStringConvertible {
        let description: String
    }

    let directory: String

    func program(_ build: Build) -> String { directory + "/program-\(build)" }
    var stripped: String { directory + "/nosyms" }
    var object: String { directory + "/main.o" }
    var text: String { directory + "/notes.txt" }

    static let compiler = "/usr/bin/cc"
    /// Whether this run builds test programs: on the host, always (`make deps` and the image
    /// provide cc, g++, readelf and sys/sdt.h, so a missing tool fails the tests rather than
    /// skipping them). Not in the QEMU guest: gcc under TCG took 110-130 s per test program there,
    /// and these are uprobe tests, which the host kernel runs.
    static var available: Bool { !KernelFeatures.inGuest }

    static let mainSource = """
        #include <stdlib.h>
        volatile int swtf_calls;
        __attribute__((noinline)) void swtf_target(void) { swtf_calls++; __asm__ volatile("" ::: "memory"); }
        void swtf_alias(void) __attribute__((alias("swtf_target")));
        int swtf_data = 1;
        static __attribute__((noinline, used)) void swtf_twin(void) { __asm__ volatile("" ::: "memory"); }
        void swtf_other_twin(void);
        int main(int argc, char **argv) {
            int count = argc > 1 ? atoi(argv[1]) : 0;
            for (int i = 0; i < count; i++) swtf_target();
            swtf_twin();
            swtf_other_twin();
            return 0;
        }
        """
    static let twinSource = """
        static __attribute__((noinline, used)) void swtf_twin(void) { __asm__ volatile("" ::: "memory"); }
        void swtf_other_twin(void) { swtf_twin(); }
        """
    static let startSource = "void _start(void) { for (;;) {} }\n"

    static func with<Result>(_ body: (SymbolTestPrograms) throws -> Result) throws -> Result {
        var template = Array("/tmp/swtf_symbols_XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw BuildFailed(description: "mkdtemp failed: errno \(errno)") }
        let programs = SymbolTestPrograms(directory: String(cString: made))
        defer { programs.remove() }
        try programs.build()
        return try body(programs)
    }

    private func build() throws {
        try write(Self.mainSource, to: directory + "/main.c")
        try write(Self.twinSource, to: directory + "/twin.c")
        try write(Self.startSource, to: directory + "/start.c")
        try write("not an ELF file\n", to: text)
        for build in Build.allCases {
            try compile(["-O1"] + build.flags + ["-o", program(build), directory + "/main.c", directory + "/twin.c"])
        }
        try compile(["-static", "-nostdlib", "-no-pie", "-s", "-o", stripped, directory + "/start.c"])
        try compile(["-c", "-o", object, directory + "/main.c"])
    }

    private func compile(_ arguments: [String]) throws {
        let run = ChildRun.run([Self.compiler] + arguments)
        guard run.status == 0 else { throw BuildFailed(description: "cc \(arguments.joined(separator: " ")): \(run.output)") }
    }

    private func write(_ text: String, to path: String) throws {
        guard let file = fopen(path, "w") else { throw BuildFailed(description: "cannot write \(path)") }
        defer { fclose(file) }
        fputs(text, file)
    }

    private func remove() {
        for name in ["main.c", "twin.c", "start.c", "notes.txt", "main.o", "nosyms"] + Build.allCases.map({ "program-\($0)" }) {
            unlink(directory + "/" + name)
        }
        rmdir(directory)
    }
}
