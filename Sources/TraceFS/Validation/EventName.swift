/// The kernel's rules for the names of event groups (systems) and events, and a helper that turns
/// any symbol into a name the kernel accepts.
///
/// A name is a C identifier: ASCII letters, digits and `_`, not starting with a digit, at most
/// ``maximumLength`` characters. Symbols such as `foo.isra.0` or `do_sys_open+0x10` are valid probe
/// addresses but not valid event names; ``sanitized(_:)`` maps them.
public enum EventName {
    /// The longest name the kernel accepts for a group or an event: MAX_EVENT_NAME_LEN (64) counts
    /// the terminating NUL, so 63 characters ("Group name is too long" / "Event name is too long").
    public static let maximumLength = 63

    /// Whether the kernel accepts `name` as a group or event name.
    public static func isValid(_ name: String) -> Bool {
        problem(with: name) == nil
    }

    /// `name` turned into a valid event name: every other character becomes `_`, a leading digit
    /// gets a `_` in front, and the result is cut to ``maximumLength``. `foo.isra.0` becomes
    /// `foo_isra_0`; an empty string becomes `_`.
    public static func sanitized(_ name: String) -> String {
        var characters: [Character] = name.unicodeScalars.map { scalar in
            scalar.isASCII && (isLetterOrUnderscore(scalar) || isDigit(scalar)) ? Character(scalar) : "_"
        }
        if let first = characters.first, let scalar = first.unicodeScalars.first, isDigit(scalar) {
            characters.insert("_", at: 0)
        }
        if characters.isEmpty { characters = ["_"] }
        return String(characters.prefix(maximumLength))
    }

    /// Why `name` is not a valid name, or `nil` when it is.
    static func problem(with name: String) -> String? {
        guard let first = name.unicodeScalars.first else { return "it is empty" }
        if name.utf8.count > maximumLength {
            return "it is \(name.utf8.count) bytes long, more than the kernel's \(maximumLength)"
        }
        guard isLetterOrUnderscore(first) else {
            return "it must start with an ASCII letter or '_', not \(quoted(first))"
        }
        if let bad = name.unicodeScalars.first(where: { !(isLetterOrUnderscore($0) || isDigit($0)) }) {
            return "it may contain only ASCII letters, digits and '_', not \(quoted(bad))"
        }
        return nil
    }

    static func quoted(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": "a newline"
        case "\t": "a tab"
        case " ": "a space"
        default:
            scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || ProbeInput.isBidiControl(scalar)
                ? "control character U+\(String(scalar.value, radix: 16, uppercase: true))"
                : "'\(scalar)'"
        }
    }

    private static func isLetterOrUnderscore(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_"
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(scalar)
    }
}
