/// Field access shared by ``Record`` (a view valid inside a reading callback) and
/// ``TraceRecord`` (an owned copy).
public protocol RecordFields: ~Copyable {
    /// The event this record is an instance of.
    var format: EventFormat { get }
    /// Calls `body` with the record's raw data: the bytes the event's fields describe.
    func withUnsafeData<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result
    /// Calls `body` with ``format`` without retaining it: the field accessors look the format up
    /// on every record, where a retain and release would cost more than reading the field.
    func withFormat<Result>(_ body: (EventFormat) throws -> Result) rethrows -> Result
}

extension RecordFields where Self: ~Copyable {
    /// The kernel pid (a thread id; `gettid()`) of the task that was running when the event fired
    /// (`common_pid`); -1 for an event without one. Read when asked for, not when the record is
    /// read or copied.
    @inlinable
    public var pid: Int32 {
        guard let field = withFormat({ $0.pidField }) else { return -1 }
        return withUnsafeData { FieldReader.integer(field, in: $0) }.map { Int32(truncatingIfNeeded: $0) } ?? -1
    }

    /// The value of the integer field `name` as signed, or `nil` when there is no such integer field.
    @inlinable
    public func signed(_ name: String) -> Int64? {
        integerBits(name).map { Int64(bitPattern: $0) }
    }

    /// The value of the integer field `name` as unsigned, or `nil` when there is no such integer field.
    @inlinable
    public func unsigned(_ name: String) -> UInt64? {
        integerBits(name)
    }

    @inlinable
    func integerBits(_ name: String) -> UInt64? {
        guard let field = withFormat({ $0.fieldTable.layout(named: name) }), field.isInteger else { return nil }
        return withUnsafeData { FieldReader.integer(field, in: $0) }
    }

    /// The string field `name` (fixed `char[N]`, `char[]`, or dynamic `__data_loc char[]`), up to
    /// its first NUL; `nil` when there is no such string field.
    @inlinable
    public func string(_ name: String) -> String? {
        guard let field = withFormat({ $0.fieldTable.layout(named: name) }) else { return nil }
        return withUnsafeData { FieldReader.string(field, in: $0) }
    }

    /// The raw bytes of the field `name`; `nil` when there is no such field.
    @inlinable
    public func bytes(_ name: String) -> [UInt8]? {
        guard let field = withFormat({ $0.fieldTable.layout(named: name) }) else { return nil }
        return withUnsafeData { data in FieldReader.span(field, in: data).map { Array($0) } }
    }

    /// Calls `body` with the bytes of the field `name` where they are, without copying them: a
    /// fixed field's bytes, the data a `__data_loc` field points at, or the rest of the record for
    /// `char[]`. `nil` when there is no such field. The bytes are valid only inside `body`.
    @inlinable
    public func withUnsafeBytes<Result>(
        of name: String, _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result? {
        guard let field = withFormat({ $0.fieldTable.layout(named: name) }) else { return nil }
        return try withUnsafeData { data in
            guard let span = FieldReader.span(field, in: data) else { return nil }
            return try body(span)
        }
    }

    /// The field `name`, read according to its kind.
    @inlinable
    public func value(_ name: String) -> FieldValue? {
        guard let field = withFormat({ $0.fieldTable.layout(named: name) }) else { return nil }
        return withUnsafeData { FieldReader.value(field, in: $0) }
    }

    // MARK: - By handle (no name lookup on records of the handle's event)

    /// Where `field` is in this record: its own layout on a record of its event, else the layout of
    /// the field of that name in this record's event.
    @inlinable @inline(__always)
    func layout(of field: FieldHandle) -> FieldLayout? {
        // The lookup by name is kept out of line: it is rare, and inlined it made the caller's
        // closure too large for the compiler to inline into the page walk.
        withFormat { format in
            format === field.format ? field.layout : format.layoutOutOfLine(named: field.name)
        }
    }

    /// The integer `field` as signed; `nil` when this record's event has no such integer field.
    @inlinable
    public func signed(_ field: FieldHandle) -> Int64? {
        guard let layout = layout(of: field), layout.isInteger else { return nil }
        return withUnsafeData { FieldReader.integer(layout, in: $0) }.map { Int64(bitPattern: $0) }
    }

    /// The integer `field` as unsigned; `nil` when this record's event has no such integer field.
    @inlinable
    public func unsigned(_ field: FieldHandle) -> UInt64? {
        guard let layout = layout(of: field), layout.isInteger else { return nil }
        return withUnsafeData { FieldReader.integer(layout, in: $0) }
    }

    /// The string `field`, up to its first NUL; `nil` when this record's event has no such string field.
    @inlinable
    public func string(_ field: FieldHandle) -> String? {
        guard let layout = layout(of: field) else { return nil }
        return withUnsafeData { FieldReader.string(layout, in: $0) }
    }

    /// The raw bytes of `field`; `nil` when this record's event has no such field.
    @inlinable
    public func bytes(_ field: FieldHandle) -> [UInt8]? {
        guard let layout = layout(of: field) else { return nil }
        return withUnsafeData { data in FieldReader.span(layout, in: data).map { Array($0) } }
    }

    /// Calls `body` with the bytes of `field` where they are (see ``withUnsafeBytes(of:_:)-(String,_)``);
    /// `nil` when this record's event has no such field.
    @inlinable
    public func withUnsafeBytes<Result>(
        of field: FieldHandle, _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result? {
        guard let layout = layout(of: field) else { return nil }
        return try withUnsafeData { data in
            guard let span = FieldReader.span(layout, in: data) else { return nil }
            return try body(span)
        }
    }

    /// `field`, read according to its kind; `nil` when this record's event has no such field.
    @inlinable
    public func value(_ field: FieldHandle) -> FieldValue? {
        guard let layout = layout(of: field) else { return nil }
        return withUnsafeData { FieldReader.value(layout, in: $0) }
    }

    /// The record's fields decoded into `type`, property by property, by field name.
    ///
    /// Integer properties (any width, signed or not) read integer fields and must fit; `String`
    /// reads string fields; `[UInt8]` reads any field's bytes; `Bool` reads an integer field.
    /// Optional properties are `nil` when the event has no such field.
    ///
    /// - Throws: ``TraceFSError`` with `decodingFailed` naming the field that is missing or of
    ///   the wrong type.
    @inlinable
    public func decode<Value: Decodable>(_ type: Value.Type) throws(TraceFSError) -> Value {
        let format = self.format
        let result: Result<Value, TraceFSError> = withUnsafeData { data in
            do {
                return .success(try Value(from: RecordDecoder(format: format, data: data)))
            } catch {
                return .failure(RecordDecoder.describe(error, decoding: Value.self, format: format))
            }
        }
        return try result.get()
    }
}
