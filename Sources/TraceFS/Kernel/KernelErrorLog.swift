/// The kernel's `error_log` in the top tracing directory, read so that a failure carries only its
/// own entry.
///
/// `tracefs_error_last` returns the newest entry whoever wrote it, which may belong to an earlier,
/// unrelated failure. Instead, a caller takes a ``Mark`` before writing to a control file and, when
/// the write fails, reads only the entries that appeared after it. Callers hold ``LibraryLock`` so
/// that no other write of this process lands in between.
struct KernelErrorLog {
    /// The newest entry's header line when the mark was taken (`nil`: the log was empty).
    struct Mark {
        fileprivate let lastHeader: Substring?
    }

    /// One entry: "[  190.888814] trace_uprobe: error: Failed to find the given file", its
    /// command line, and the caret line under the offending token.
    struct Entry {
        let header: Substring
        let message: String
    }

    let path: String

    init(tracingDirectory: String) {
        path = tracingDirectory + "/error_log"
    }

    func mark() -> Mark {
        Mark(lastHeader: Self.entries(in: KernelFile.read(path) ?? "").last?.header)
    }

    /// The message of the newest entry written after `mark`, if any.
    func message(after mark: Mark) -> String? {
        let entries = Self.entries(in: KernelFile.read(path) ?? "")
        var fresh = entries[...]
        if let header = mark.lastHeader, let index = entries.lastIndex(where: { $0.header == header }) {
            fresh = entries[(index + 1)...]
        }
        return fresh.last?.message
    }

    /// Splits the log into entries. An entry starts with "[ seconds.micros] ".
    static func entries(in text: String) -> [Entry] {
        var entries: [Entry] = []
        var header: Substring?
        var command: Substring?
        var caret: Substring?
        func finish() {
            guard let header else { return }
            entries.append(Entry(header: header, message: describe(header: header, command: command, caret: caret)))
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.first == "[" {
                finish()
                header = line
                command = nil
                caret = nil
            } else if command == nil, line.contains("Command:") {
                command = line
            } else if command != nil, caret == nil, line.contains("^") {
                caret = line
            }
        }
        finish()
        return entries
    }

    /// "trace_uprobe: error: Failed to find the given file (at '/nonexistent:0x1000')".
    private static func describe(header: Substring, command: Substring?, caret: Substring?) -> String {
        var message = header
        if let close = header.firstIndex(of: "]") {
            message = header[header.index(after: close)...].drop(while: { $0 == " " })
        }
        guard let command, let caret, let column = caret.firstIndex(of: "^") else { return String(message) }
        let offset = caret.distance(from: caret.startIndex, to: column)
        guard offset < command.count else { return String(message) }
        let token = command.dropFirst(offset).prefix(while: { $0 != " " })
        return token.isEmpty ? String(message) : "\(message) (at '\(token)')"
    }
}
