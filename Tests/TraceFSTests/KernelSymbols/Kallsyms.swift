#if canImport(Glibc)
import Glibc
#endif

/// `/proc/kallsyms` read and split by the tests themselves, not by the code under test, to pick
/// names of each kind from the running kernel.
struct Kallsyms: Sendable {
    /// Read once: splitting 100,000 lines takes seconds in a debug build.
    static let current = Kallsyms()

    struct Line: Sendable {
        let address: Substring
        let type: Character
        let name: Substring
        let module: Substring?
        var isFunction: Bool { "tTwW".contains(type) }
    }

    let lines: [Line]
    /// Code lines per name (kernel and modules together, pseudo modules left out).
    let functionCounts: [Substring: Int]
    /// Every type letter each name has.
    let types: [Substring: Set<Character>]

    init() {
        var lines: [Line] = []
        for line in readKernelFile("/proc/kallsyms").split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 3, let type = fields[1].first else { continue }
            let module = fields.count > 3 ? fields[3].dropFirst().dropLast() : nil
            if let module, module == "bpf" || module.hasPrefix("__builtin__") { continue }
            lines.append(Line(address: fields[0], type: type, name: fields[2], module: module))
        }
        self.lines = lines
        var counts: [Substring: Int] = [:], types: [Substring: Set<Character>] = [:]
        for line in lines {
            if line.isFunction { counts[line.name, default: 0] += 1 }
            types[line.name, default: []].insert(line.type)
        }
        functionCounts = counts
        self.types = types
    }

    func has(_ name: String) -> Bool { types[Substring(name)] != nil }

    /// A compiler-made copy (`foo.isra.0`, `foo.constprop.0`) with one address whose plain name
    /// kallsyms does not list.
    func copyWithoutItsFunction() -> (copy: String, function: String)? {
        for suffix in [".isra.", ".constprop.", ".part."] {
            for line in lines where line.isFunction && line.module == nil && !line.name.hasPrefix(".") {
                guard let range = line.name.range(of: suffix), functionCounts[line.name] == 1,
                      !line.name.contains(".cold") else { continue }
                let base = line.name[..<range.lowerBound]
                if !base.isEmpty && !base.contains(".") && types[base] == nil { return (String(line.name), String(base)) }
            }
        }
        return nil
    }

    /// A kernel (not module) function name that several functions have.
    func nameOfSeveralFunctions() -> String? {
        lines.first { $0.isFunction && $0.module == nil && !$0.name.contains(".") && (functionCounts[$0.name] ?? 0) > 1 }
            .map { String($0.name) }
    }

    /// A data symbol that no function shares a name with.
    func dataSymbol() -> String? {
        lines.first { line in
            "dDbBrR".contains(line.type) && !line.name.contains(".") && functionCounts[line.name] == nil
        }.map { String($0.name) }
    }

    /// A module and one of its functions, when any module is loaded.
    func moduleFunction() -> (module: String, function: String)? {
        var perModule: [Substring: Int] = [:]
        for line in lines where line.isFunction && line.module != nil {
            perModule[line.module! + ":" + line.name, default: 0] += 1
        }
        return lines.first { line in
            line.isFunction && !line.name.contains(".") && line.module.map { perModule[$0 + ":" + line.name] == 1 } == true
                && functionCounts[line.name] == 1
        }.map { (String($0.module!), String($0.name)) }
    }
}
