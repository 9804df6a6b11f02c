import Synchronization

/// The kernel's `error_log` in the top tracing directory, read so that a failure carries only its
/// own entry.
///
/// `tracefs_error_last` returns the newest entry whoever wrote it, which may belong to an earlier,
/// unrelated failure. Here the log is read only after a write failed, and its newest entry is taken
/// only when its `Command:` line is the definition that was written, and no earlier failure of
/// this process already claimed that same entry. Nothing is read when the write succeeds, so the
/// check costs nothing on the path that matters. Callers hold ``LibraryLock``.
struct KernelErrorLog {
    /// One entry: "[  190.888814] trace_uprobe: error: Failed to find the given file", its
    /// command line, and the caret line under the offending token.
    struct Entry {
        let header: Substring
        let command: Substring?
        let message: String
    }

    let path: String

    /// The header of the entry the last failure claimed, so that a second failure that the kernel
    /// did not log is not given the first one's message.
    private static let lastClaimed = Mutex<String?>(nil)

    init(tracingDirectory: String) {
        path = tracingDirectory + "/error_log"
    }

    /// The message of the newest entry, if it is about `command` and not claimed before.
    func message(about command: String) -> String? {
        guard let newest = Self.entries(in: KernelFile.read(path) ?? "").last,
              let logged = newest.command,
              Self.normalized(logged) == Self.normalized(Substring(command))
        else { return nil }
        return Self.lastClaimed.withLock { claimed in
            let header = String(newest.header)
            guard claimed != header else { return nil }
            claimed = header
            return newest.message
        }
    }

    /// The kernel logs the command's words joined by single spaces.
    static func normalized(_ command: Substring) -> String {
        command.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    /// Splits the log into entries. An entry starts with "[ seconds.micros] ".
    static func entries(in text: String) -> [Entry] {
        var entries: [Entry] = []
        var header: Substring?
        var command: Substring?
        var commandLine: Substring?
        var caret: Substring?
        func finish() {
            guard let header else { return }
            entries.append(Entry(header: header, command: command,
                                 message: describe(header: header, commandLine: commandLine, caret: caret)))
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.first == "[" {
                finish()
                header = line
                command = nil
                commandLine = nil
                caret = nil
            } else if commandLine == nil, let range = line.firstRange(of: "Command: ") {
                commandLine = line
                command = line[range.upperBound...]
            } else if commandLine != nil, caret == nil, line.contains("^") {
                caret = line
            }
        }
        finish()
        return entries
    }

    /// "trace_uprobe: error: Failed to find the given file (at '/nonexistent:0x1000')".
    private static func describe(header: Substring, commandLine: Substring?, caret: Substring?) -> String {
        var message = header
        if let close = header.firstIndex(of: "]") {
            message = header[header.index(after: close)...].drop(while: { $0 == " " })
        }
        guard let commandLine, let caret, let column = caret.firstIndex(of: "^") else { return String(message) }
        let offset = caret.distance(from: caret.startIndex, to: column)
        guard offset < commandLine.count else { return String(message) }
        let token = commandLine.dropFirst(offset).prefix(while: { $0 != " " })
        return token.isEmpty ? String(message) : "\(message) (at '\(token)')"
    }
}
