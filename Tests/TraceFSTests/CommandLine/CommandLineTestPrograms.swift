#if canImport(Glibc)
import Glibc
#endif

/// A C program for the command line's tests, built with `cc` into a temporary directory that is
/// removed when the closure returns or throws. `prog N [GO [HOLD_MS [OPENS]]]` waits until the file
/// GO exists (`-`: not at all), calls `swtf_target(i)` N times, `swtf_glob_one()` N times and
/// `swtf_glob_two()` 2N times, opens /swtf-cli-nonexistent OPENS times, then waits HOLD_MS. The
/// data object `swtf_calls` shares the functions' prefix, which a function glob must not match.
struct CommandLineTestProgram {
    struct BuildFailed: Error, CustomStringConvertible { let description: String }

    let directory: String
    var path: String { directory + "/swtf_cli_prog" }
    /// The file whose creation lets the program go on.
    var go: String { directory + "/go" }

    /// Lets the program go on.
    func release() {
        let file = fopen(go, "w")
        fclose(file)
    }

    static let source = """
        #include <stdlib.h>
        #include <unistd.h>
        #include <fcntl.h>
        volatile int swtf_calls;
        __attribute__((noinline)) void swtf_target(int i) { swtf_calls += i; __asm__ volatile("" ::: "memory"); }
        __attribute__((noinline)) void swtf_glob_one(void) { swtf_calls += 1; __asm__ volatile("" ::: "memory"); }
        __attribute__((noinline)) void swtf_glob_two(void) { swtf_calls += 2; __asm__ volatile("" ::: "memory"); }
        int main(int argc, char **argv) {
            int n = argc > 1 ? atoi(argv[1]) : 0;
            int hold = argc > 3 ? atoi(argv[3]) : 0, opens = argc > 4 ? atoi(argv[4]) : 0;
            if (argc > 2 && argv[2][0] != '-') while (access(argv[2], F_OK) != 0) usleep(10000);
            for (int i = 0; i < n; i++) swtf_target(i);
            for (int i = 0; i < n; i++) swtf_glob_one();
            for (int i = 0; i < 2 * n; i++) swtf_glob_two();
            /* A kprobe reads the name without faulting its page in: touch it first. */
            static const char path[] = "/swtf-cli-nonexistent";
            for (volatile const char *c = path; *c; c++) {}
            for (int i = 0; i < opens; i++) open(path, O_RDONLY);
            usleep(hold * 1000);
            return 0;
        }
        """

    static func with<Result>(_ body: (CommandLineTestProgram) async throws -> Result) async throws -> Result {
        var template = Array("/tmp/swtf_cli_XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw BuildFailed(description: "mkdtemp failed: errno \(errno)") }
        let program = CommandLineTestProgram(directory: String(cString: made))
        defer {
            unlink(program.directory + "/main.c")
            unlink(program.go)
            unlink(program.path)
            rmdir(program.directory)
        }
        let file = fopen(program.directory + "/main.c", "w")
        fputs(source, file)
        fclose(file)
        let run = ChildRun.run(["/usr/bin/cc", "-O1", "-o", program.path, program.directory + "/main.c"])
        guard run.status == 0 else { throw BuildFailed(description: "cc: \(run.output)") }
        return try await body(program)
    }
}

/// The guest's workload, a shell rather than a C program (gcc under TCG takes minutes per
/// program): `sh -c` that waits until the file GO exists (when asked), opens /swtf-cli-nonexistent
/// OPENS times from the shell itself (one pid: `true <` redirects a regular builtin, whose failed
/// redirection does not end the shell as a special builtin's would), then sleeps.
/// Its standard error goes to /dev/null before it waits, so that open is not counted.
struct ShellWorkload {
    let directory: String
    /// The file whose creation lets the workload go on.
    var go: String { directory + "/go" }

    /// `otherOpens` opens of /swtf-cli-other follow the opens of /swtf-cli-nonexistent, for filters
    /// that must keep one and drop the other.
    func arguments(opens: Int, otherOpens: Int = 0, waitsForGo: Bool = true, holdSeconds: String = "0.3") -> [String] {
        let wait = waitsForGo ? "while [ ! -e \(go) ]; do sleep 0.01; done; " : ""
        let other = otherOpens == 0 ? "" : "i=0; while [ $i -lt \(otherOpens) ]; do true < /swtf-cli-other; i=$((i + 1)); done; "
        return ["/bin/sh", "-c", "exec 2>/dev/null; \(wait)i=0; while [ $i -lt \(opens) ]; do true < /swtf-cli-nonexistent; "
                    + "i=$((i + 1)); done; \(other)sleep \(holdSeconds)"]
    }

    /// Lets the workload go on.
    func release() {
        let file = fopen(go, "w")
        fclose(file)
    }

    static func with<Result>(_ body: (ShellWorkload) async throws -> Result) async throws -> Result {
        var template = Array("/tmp/swtf_cli_XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw CommandLineTestProgram.BuildFailed(description: "mkdtemp failed") }
        let workload = ShellWorkload(directory: String(cString: made))
        defer {
            unlink(workload.go)
            rmdir(workload.directory)
        }
        return try await body(workload)
    }
}
