#if canImport(Glibc)
import Glibc
#endif

/// The names of this process's threads now, from `/proc/self/task/<tid>/comm`.
func threadNames() -> [String] {
    guard let directory = opendir("/proc/self/task") else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let id = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard id.first?.isNumber == true else { continue }
        let name = readKernelFile("/proc/self/task/\(id)/comm")
        names.append(String(name.split(separator: "\n").first ?? ""))
    }
    return names
}
