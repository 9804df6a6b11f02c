/// One typed fetch argument of a probe: `NAME=VALUE[:TYPE]`, what the kernel records each time
/// the probe fires, as a field of the event named `NAME`.
///
/// ```swift
/// let arguments = [
///     FetchArgument("size", .register("di"), as: .unsigned(64)),
///     FetchArgument("first", .dereference(offset: 0, .register("si")), as: .array(.hex(8), count: 4)),
///     FetchArgument("command", .comm),
/// ]
/// print(arguments.map(\.description).joined(separator: " "))
/// // size=%di:u64 first=+0(%si):x8[4] command=$comm
/// ```
///
/// Pass a list to the typed factories, such as
/// ``DynamicEvent/uprobe(system:event:file:symbol:offset:arguments:)``: they check every argument
/// against what the kernel accepts for that kind of probe before anything is written, then
/// describe the probe with the arguments' text. Read the values back from the probe's records
/// with ``value(in:)``, which returns ``swiftType``.
///
/// `Sendable`: a value type of strings and enums only.
public struct FetchArgument: Sendable, Hashable, CustomStringConvertible {
    /// The event field's name: a C identifier of at most ``maximumNameLength`` characters, not a
    /// name the event already has (`common_*`, `__probe_*`).
    public var name: String
    /// Where the value comes from.
    public var value: FetchValue
    /// How it is stored; `nil` for the kernel's default (`x64` for numbers on x86-64, `string` for
    /// ``FetchValue/comm``).
    public var type: FetchType?

    /// The kernel's longest argument name (MAX_ARG_NAME_LEN, 32).
    public static let maximumNameLength = 32
    /// The kernel's most arguments of one probe (MAX_TRACE_ARGS, 128).
    public static let maximumCount = 128
    /// The kernel's longest argument expression, `VALUE:TYPE` after the name (MAX_ARGSTR_LEN, 63).
    public static let maximumExpressionLength = 63

    /// An argument named `name` that reads `value` as `type`.
    public init(_ name: String, _ value: FetchValue, as type: FetchType? = nil) {
        self.name = name
        self.value = value
        self.type = type
    }

    /// The kernel's text: `size=%di:u64`.
    public var description: String { "\(name)=\(expression)" }

    /// `VALUE[:TYPE]`, the part the kernel limits to ``maximumExpressionLength``.
    var expression: String { "\(value)" + (type.map { ":\($0)" } ?? "") }

    /// The type the record holds: `type`, or the kernel's default for `value`.
    var effectiveType: FetchType {
        if let type { return type }
        return value == .comm ? .string : .hex(64)
    }

    /// Checks `arguments` for a probe of `kind`, as the typed factories do, without describing a
    /// probe.
    ///
    /// - Parameters:
    ///   - arguments: The arguments, in order.
    ///   - kind: The probe they are for: ``DynamicEvent/Kind/kprobe`` (assumed to be on a function's
    ///     entry, so `$argN` is allowed), `kretprobe`, `uprobe`, `uretprobe` or `eprobe`.
    /// - Throws: ``TraceFSError`` with `invalidArgument` naming the first argument the kernel would
    ///   refuse and why.
    public static func check(_ arguments: [FetchArgument], for kind: DynamicEvent.Kind) throws(TraceFSError) {
        _ = try rendered(arguments, for: kind, atFunctionEntry: true,
                         input: ProbeInput(operation: "check fetch arguments of a \(kind)"))
    }

    /// The arguments' text for a probe of `kind`, after checking each of them; `nil` for none.
    static func rendered(
        _ arguments: [FetchArgument], for kind: DynamicEvent.Kind, atFunctionEntry: Bool, input: ProbeInput
    ) throws(TraceFSError) -> String? {
        guard !arguments.isEmpty else { return nil }
        guard arguments.count <= maximumCount else {
            throw input.invalid("\(arguments.count) fetch arguments are more than the kernel's "
                + "\(maximumCount) (MAX_TRACE_ARGS) for one probe")
        }
        var names: Set<String> = []
        for argument in arguments {
            try argument.check(for: kind, atFunctionEntry: atFunctionEntry, input: input)
            guard names.insert(argument.name).inserted else {
                throw input.invalid("fetch argument \(ProbeInput.display(argument.description)) repeats the name "
                    + "\(ProbeInput.display(argument.name)); each argument needs a name of its own")
            }
        }
        return arguments.map(\.description).joined(separator: " ")
    }
}
