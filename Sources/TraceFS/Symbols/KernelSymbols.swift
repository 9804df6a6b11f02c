#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Checks a kprobe's place against the kernel's symbols before anything is written.
///
/// The ``KernelSymbolIndex`` is built once per process, on the first check, and shared by all
/// threads behind a lock. A name the index has is answered from it; a name it lacks is looked up
/// again in a fresh index when the index is older than ``maximumAge`` or `/proc/modules` changed
/// since it was built (a module loaded since), so a missing name costs at most one re-read of
/// kallsyms per ``maximumAge``.
///
/// What is checked:
/// - `symbol` and `symbol+offset`: the symbol must be a function (`t`, `T`, `w`, `W`) of the
///   kernel or a loaded module, not on the kprobe blacklist (when debugfs is mounted), and one
///   function only. The offset is the kernel's to check: kallsyms has no sizes.
/// - `module:symbol[+offset]`: the same among that module's symbols. A module that is not loaded
///   is not checked: the kernel accepts such a probe and arms it when the module is loaded.
/// - Raw addresses (what the kernel reads as a number: `0xffffffff81000000`) are not checked.
/// When `/proc/kallsyms` cannot be read nothing is checked, and the kernel has the last word.
enum KernelSymbols {
    /// How old the index may be before a name it lacks makes it be read again.
    static let maximumAge: Double = 5

    struct State: Sendable {
        var index: KernelSymbolIndex?
        /// CLOCK_MONOTONIC seconds when `index` was read.
        var builtAt: Double = 0
        /// The names and addresses of the loaded modules when `index` was read.
        var modules: String = ""
        /// How many times kallsyms was read (for the tests).
        var builds = 0
        /// Whether kallsyms was found unreadable.
        var unavailable = false
        /// Suggestions already worked out, by query; cleared with every new index.
        var suggestions: [String: [String]] = [:]
    }

    // Sendable: the state is reached only inside `withLock`.
    static let state = PthreadMutex(State())

    /// What kallsyms says about a place.
    enum Verdict: Equatable, Sendable {
        case probeable
        case notChecked
        case missing
        case blacklisted
        case data(type: UInt8)
        case several(count: Int)
    }

    /// A kprobe place split as the kernel splits it.
    struct Place: Equatable, Sendable {
        let module: String?
        let symbol: String

        /// `nil` for a raw address, which is not checked: as the kernel reads it, a number in C
        /// syntax (`kstrtoul` base 0: `0xffffffff81000000`, `18446744071578845184`); anything else
        /// is a symbol, `9p:v9fs_mount` too.
        init?(_ address: String) {
            let utf8 = address.utf8
            let digits = utf8.starts(with: "0x".utf8) || utf8.starts(with: "0X".utf8) ? utf8.dropFirst(2) : utf8[...]
            let hex = digits.count < utf8.count
            if !digits.isEmpty && digits.allSatisfy({ byte in
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || hex && (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte | 0x20)
            }) { return nil }
            var rest = Substring(address)
            if let colon = rest.firstIndex(of: ":") {
                module = String(rest[..<colon])
                rest = rest[rest.index(after: colon)...]
            } else {
                module = nil
            }
            symbol = String(rest.prefix { $0 != "+" })
            guard !symbol.isEmpty, module?.isEmpty != true else { return nil }  // the kernel's syntax error
        }

        var display: String { (module.map { "\($0):" } ?? "") + symbol }
    }

    /// Checks `address` (already checked for syntax by ``ProbeInput/kernelAddress(_:)``).
    ///
    /// - Throws: ``TraceFSError``: `notFound` for a name kallsyms does not list as a function or
    ///   lists only on the kprobe blacklist, naming similar functions and the compiler-made copies
    ///   of the name; `invalidArgument` for a data symbol or a name that several functions have.
    static func check(_ address: String, operation: @escaping @autoclosure () -> String) throws(TraceFSError) {
        guard let place = Place(address) else { return }
        let (verdict, index) = lookup(place)
        switch verdict {
        case .probeable, .notChecked:
            return
        case .missing, .blacklisted:
            throw TraceFSError(.notFound, operation: operation(),
                               reason: missingReason(place, blacklisted: verdict == .blacklisted, index: index!))
        case .data(let type):
            let what = type == UInt8(ascii: "a") || type == UInt8(ascii: "A") ? "an absolute symbol" : "a data symbol"
            throw TraceFSError(
                .invalidArgument, operation: operation(),
                reason: "\(ProbeInput.display(place.display)) is \(what) (type '\(Character(Unicode.Scalar(type)))' in "
                    + "/proc/kallsyms), not a function: kprobes go on code; probe a function that reads or writes it")
        case .several(let count):
            let listed = KernelSymbolIndex.addresses(of: place.symbol, module: place.module)
            let modules = Set(listed.map { $0.split(separator: " ").dropFirst().first.map(String.init) ?? "" })
            throw TraceFSError(
                .invalidArgument, operation: operation(),
                reason: "\(ProbeInput.display(place.display)) names \(count) functions in /proc/kallsyms (static "
                    + "functions of one name in several files"
                    + (index?.addressesHidden == false && !listed.isEmpty ? ", at \(listed.joined(separator: ", "))" : "")
                    + "): kernels since 6.7 and their stable updates (Debian's 6.1 among them) refuse such a name "
                    + "(EADDRNOTAVAIL), older ones probe only the first; give the address of the one to probe"
                    + (modules.count > 1 && place.module == nil ? ", or module:name for one in a module" : "")
                    + (index?.addressesHidden == true ? " (as root: this user sees addresses as 0)" : ""))
        }
    }

    /// The verdict on `place`, reading kallsyms again first when the index lacks the name and may
    /// be out of date; and the index that gave it.
    static func lookup(_ place: Place) -> (Verdict, KernelSymbolIndex?) {
        state.withLock { state in
            if state.index == nil && !state.unavailable { rebuild(&state) }
            guard let index = state.index else { return (.notChecked, nil) }
            let verdict = verdict(place, in: index)
            guard verdict == .missing || verdict == .notChecked && place.module != nil else { return (verdict, index) }
            let stale = monotonicSeconds() - state.builtAt > maximumAge || loadedModules() != state.modules
            guard stale else { return (verdict, index) }
            rebuild(&state)
            guard let fresh = state.index else { return (.notChecked, nil) }
            return (Self.verdict(place, in: fresh), fresh)
        }
    }

    /// Forgets the index, so that the next check reads kallsyms (for the tests).
    static func reset() {
        state.withLock { $0 = State() }
    }

    private static func verdict(_ place: Place, in index: KernelSymbolIndex) -> Verdict {
        let entry: KernelSymbolIndex.Entry?
        if let module = place.module {
            guard index.modules.contains(module) else { return .notChecked }
            entry = index.moduleNames[module + ":" + place.symbol]
        } else {
            entry = index.names[place.symbol]
        }
        guard let entry else { return .missing }
        if entry.functions == 0 { return entry.otherType == 0 ? .missing : .data(type: entry.otherType) }
        if index.blacklist.contains(place.symbol) { return .blacklisted }
        return entry.functions == 1 ? .probeable : .several(count: Int(entry.functions))
    }

    private static func rebuild(_ state: inout State) {
        let modules = loadedModules()
        let old = state.index
        state.index = KernelSymbolIndex()
        state.unavailable = state.index == nil
        state.builtAt = monotonicSeconds()
        // The suggestions stay while kallsyms has as many lines and the same modules: working them
        // out again costs more than reading kallsyms.
        if old?.lineCount != state.index?.lineCount || modules != state.modules { state.suggestions = [:] }
        state.modules = modules
        state.builds += 1
    }

    /// The reason for `notFound`: what kallsyms lacks, the compiler-made copies, similar names.
    private static func missingReason(_ place: Place, blacklisted: Bool, index: KernelSymbolIndex) -> String {
        let subject = ProbeInput.display(place.display)
        let where_ = place.module.map { "module \(ProbeInput.display($0))" } ?? "the kernel"
        var reason = blacklisted
            ? "\(subject) is on the kernel's kprobe blacklist (/sys/kernel/debug/kprobes/blacklist): the kernel "
                + "refuses probes on it, since a probe there could recurse or crash"
            : "\(where_) has no function \(ProbeInput.display(place.symbol)) (/proc/kallsyms lists "
                + "\(index.lineCount) symbols)"
        // foo.isra.0 and its like, when the plain name is asked for (or one copy for another).
        let base = KernelSymbolIndex.copiedFunction(place.symbol) ?? place.symbol
        let copies = ((index.copies[base] ?? []) + (base != place.symbol && index.hasFunction(base) ? [base] : []))
            .filter { $0 != place.symbol && !index.blacklist.contains($0) && inModule(place.module, $0, index) }
            .sorted()
        let near = suggestions(for: place, index: index).filter { !copies.contains($0) }
        if !copies.isEmpty {
            let described = copies.prefix(5).map { "\($0) (\(copyDescription($0)))" }
            reason += "; did you mean \(described.joined(separator: ", or "))?"
                + " A probe on a copy sees only the calls the compiler sent to that copy"
        }
        if !near.isEmpty {
            reason += copies.isEmpty ? "; did you mean \(near.joined(separator: ", "))?" : "; similar names: \(near.joined(separator: ", "))"
        } else if copies.isEmpty {
            reason += "; no similar function names"
        }
        return reason + "; names are exact and case-sensitive (grep them in /proc/kallsyms)"
    }

    private static func inModule(_ module: String?, _ name: String, _ index: KernelSymbolIndex) -> Bool {
        guard let module else { return true }
        return (index.moduleNames[module + ":" + name]?.functions ?? 0) > 0
    }

    private static func copyDescription(_ name: String) -> String {
        if name.hasSuffix(".cold") { return "the rarely run part the compiler split off; not the function's entry" }
        if KernelSymbolIndex.copiedFunction(name) == nil { return "the function the copy was made from" }
        return "a compiler-made copy"
    }

    /// Up to five similar function names, worked out once per query and index.
    private static func suggestions(for place: Place, index: KernelSymbolIndex) -> [String] {
        let key = place.display
        if let known = state.withLock({ $0.suggestions[key] }) { return known }
        let candidates = place.module.map { index.functions(inModule: $0) } ?? index.probeableFunctions
        let found = NearestNames.nearest(to: place.symbol, in: plausible(candidates, near: place.symbol))
        state.withLock { $0.suggestions[key] = found }
        return found
    }

    /// The candidates that can pass ``NearestNames``'s test: those sharing its prefix, and those
    /// whose bag distance (how many bytes one has more of than the other, a lower bound of the edit
    /// distance) is small enough. Edit distances over 100,000 kernel names take seconds in a debug
    /// build; this takes a few operations per byte and leaves a few hundred names.
    static func plausible(_ candidates: [String], near query: String) -> [String] {
        let target = Array(query.utf8)
        let allowed = max(2, target.count / 3)
        let prefixNeeded = min(target.count, 4)
        let counts = UnsafeMutablePointer<Int32>.allocate(capacity: 256)
        defer { counts.deallocate() }
        counts.initialize(repeating: 0, count: 256)
        for byte in target { counts[Int(byte)] += 1 }
        return candidates.filter { name in
            // Names read from kallsyms are native strings, whose bytes are contiguous.
            name.utf8.withContiguousStorageIfAvailable { bytes -> Bool in
                if abs(bytes.count - target.count) > allowed && !bytes.starts(with: target.prefix(prefixNeeded)) {
                    return false
                }
                if prefixNeeded > 0 && bytes.count >= prefixNeeded && bytes.starts(with: target.prefix(prefixNeeded)) {
                    return true
                }
                var missing = target.count, extra = 0
                for byte in bytes {
                    if counts[Int(byte)] > 0 { missing -= 1 } else { extra += 1 }
                    counts[Int(byte)] -= 1
                }
                for byte in bytes { counts[Int(byte)] += 1 }
                return max(missing, extra) <= allowed
            } ?? true
        }
    }

    /// The names and addresses of the loaded modules (not their reference counts, which change).
    static func loadedModules() -> String {
        guard let text = KernelFile.read("/proc/modules") else { return "" }
        return text.split(separator: "\n").map { line in
            let fields = line.split(separator: " ")
            return "\(fields.first ?? "") \(fields.last ?? "")"
        }.joined(separator: "\n")
    }

    private static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
