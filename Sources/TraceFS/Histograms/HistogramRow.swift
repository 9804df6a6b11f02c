/// One entry of a histogram: its keys and the sums of its values.
public struct HistogramRow: Sendable, Hashable {
    /// The keys, in the trigger's order: (field, value).
    public let keys: [HistogramKey]
    /// The values, in the kernel's order, `hitcount` first when shown.
    public let values: [HistogramValue]

    /// Creates a row.
    public init(keys: [HistogramKey], values: [HistogramValue]) {
        self.keys = keys
        self.values = values
    }

    /// The key of `field`.
    public func key(_ field: String) -> HistogramKeyValue? {
        keys.first { $0.field == field }?.value
    }

    /// The sum of `name` (`hitcount` for the number of events).
    public func value(_ name: String) -> UInt64? {
        values.first { $0.name == name }?.value
    }

    /// How many events fell in this row.
    public var hitCount: UInt64 { value("hitcount") ?? 0 }

    /// Decodes the row into `type`: each property named like a key or value. A key decodes as
    /// what it is: numbers as integers, strings, symbols and syscalls as their name (or address and
    /// number as integers), execname as the command (or the pid as an integer), a log2 or linear
    /// bucket as its upper or lower bound, a stack trace as `[String]`.
    ///
    /// - Throws: ``TraceFSError`` with `decodingFailed` naming the missing or mistyped property.
    public func decode<Value: Decodable>(_ type: Value.Type) throws(TraceFSError) -> Value {
        do {
            return try Value(from: HistogramRowDecoder(row: self))
        } catch let error as TraceFSError {
            throw error
        } catch {
            throw TraceFSError(.decodingFailed, operation: "decode a histogram row as \(Value.self)",
                               reason: "\(error)")
        }
    }
}

/// A key of a histogram row: the field (`common_pid`, `stacktrace`) and its value.
public struct HistogramKey: Sendable, Hashable {
    /// The field's name, without the modifier.
    public let field: String
    /// The key, typed by its modifier.
    public let value: HistogramKeyValue

    public init(field: String, value: HistogramKeyValue) {
        self.field = field
        self.value = value
    }
}

/// A value of a histogram row: the field summed (or `hitcount`) and the sum.
public struct HistogramValue: Sendable, Hashable {
    /// `hitcount` or the summed field's name.
    public let name: String
    /// The sum.
    public let value: UInt64

    public init(name: String, value: UInt64) {
        self.name = name
        self.value = value
    }
}
