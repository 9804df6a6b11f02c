import CTraceFS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension SyntheticEvent {
    /// Describes a synthetic event with libtracefs's SQL dialect (as `sqlhist` reads it):
    ///
    /// ```swift
    /// let latency = try SyntheticEvent(name: "open_latency", sql: """
    ///     SELECT start.common_pid AS pid, (end.common_timestamp.usecs - start.common_timestamp.usecs) AS delta
    ///     FROM syscalls.sys_enter_openat AS start JOIN syscalls.sys_exit_openat AS end
    ///     ON start.common_pid = end.common_pid
    ///     """)
    /// try latency.create()
    /// try latency.destroy()
    /// ```
    ///
    /// - Parameters:
    ///   - name: The new event's name.
    ///   - sql: `SELECT ... FROM start JOIN end ON ... [WHERE ...]`.
    ///   - catalog: Formats of the events the query names; `nil` loads every event (slower).
    /// - Throws: ``TraceFSError`` with `invalidArgument` and the parser's message with its line
    ///   and column for a query it cannot read; for `CAST(x AS BUCKETS=N)`, which libtracefs 1.6.4's
    ///   lexer cannot read; and for a query without `JOIN` (a plain histogram: use ``Histogram``).
    ///   `unsupported` without CONFIG_SYNTH_EVENTS.
    ///
    /// The corresponding C function is `tracefs_sql`.
    public convenience init(name: String, sql: String, catalog: EventCatalog? = nil) throws(TraceFSError) {
        let operation = "describe synthetic event \(ProbeInput.display(name)) from SQL"
        try ProbeInput(operation: operation).name(name, as: "synthetic event")
        guard !sql.utf8.contains(0) else {
            throw TraceFSError(.invalidArgument, operation: operation, reason: "the query contains a NUL byte")
        }
        if let bucket = Self.bucketCast(in: sql) {
            throw TraceFSError(
                .invalidArgument, operation: operation,
                reason: "libtracefs 1.6.4's SQL lexer has no '=', so it cannot read '\(bucket)' (line \(bucket.line), "
                    + "column \(bucket.column)); build linear buckets with Histogram.Key(field, .buckets(size: N)) "
                    + "on the synthetic event instead")
        }
        let formats: EventCatalog
        if let catalog { formats = catalog } else { formats = try EventCatalog.local() }
        var message: UnsafeMutablePointer<CChar>?
        defer { free(message) }
        let pointer = formats.withHandle { handle in withClearedErrno { tracefs_sql(handle, name, sql, &message) } }
        guard let pointer else {
            let error = currentErrno()
            let text = message.map { String(cString: $0) }
            throw TraceFSError(
                error == ENOMEM ? .outOfMemory : .invalidArgument, operation: operation,
                reason: text.map { "the query does not parse: \(Self.position(of: $0, in: sql))" }
                    ?? "libtracefs could not build an event from the query (check the event and field names)",
                function: "tracefs_sql", errno: reportableErrno(error), kernelMessage: text)
        }
        guard tracefs_synth_complete(pointer) else {
            tracefs_synth_free(pointer)
            throw TraceFSError(
                .invalidArgument, operation: operation,
                reason: "the query has no JOIN, so it describes a histogram of one event, not a synthetic event; "
                    + "use Histogram with the same keys")
        }
        do {
            try Self.requireSyntheticEvents(operation)
        } catch {
            tracefs_synth_free(pointer)
            throw error
        }
        self.init(taking: pointer, name: name)
    }

    /// "line 2, column 14: ERROR: 'x' ..." from the parser's message (the offending line, a caret
    /// under the token, then the error).
    static func position(of message: String, in sql: String) -> String {
        let lines = message.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3, let caret = lines[1].firstIndex(of: "^") else { return message }
        let column = lines[1].distance(from: lines[1].startIndex, to: caret) + 1
        let sqlLines = sql.split(separator: "\n", omittingEmptySubsequences: false)
        let line = (sqlLines.firstIndex(of: lines[0]) ?? 0) + 1
        let error = lines.dropFirst(2).filter { !$0.isEmpty }.joined(separator: " ")
        return "line \(line), column \(column): \(error)"
    }

    /// The first `AS BUCKETS=...` of the query, with its line and column (1-based).
    static func bucketCast(in sql: String) -> (text: String, line: Int, column: Int)? {
        for (number, line) in sql.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let upper = line.uppercased()
            guard let range = upper.firstRange(of: "BUCKETS") else { continue }
            let rest = upper[range.upperBound...].drop(while: { $0 == " " })
            guard rest.first == "=" else { continue }
            let column = upper.distance(from: upper.startIndex, to: range.lowerBound) + 1
            let text = line.dropFirst(column - 1).prefix { $0 != ")" }
            return (String(text), number + 1, column)
        }
        return nil
    }
}
