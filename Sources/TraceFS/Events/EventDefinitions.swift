import CTraceFS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The kernel's current event definitions under `<tracefs>/events`, read file by file: what a
/// catalog consults to learn events created after it was loaded, and to notice that the kernel has
/// given a destroyed event's id to another one.
enum EventDefinitions {
    /// The id in `events/<system>/<name>/id`, or `nil` when the event does not exist (any more).
    static func id(system: String, name: String, in directory: String) -> Int32? {
        if let text = KernelFile.read("\(directory)/events/\(system)/\(name)/id") {
            return text.split(separator: "\n").first.flatMap { Int32($0) }
        }
        // ftrace's own records (kernel_stack, user_stack, function...) have no id file, only a
        // format file whose second line is "ID: 4".
        guard let format = KernelFile.read("\(directory)/events/\(system)/\(name)/format") else { return nil }
        return format.split(separator: "\n").prefix(3).first { $0.hasPrefix("ID: ") }.flatMap { Int32($0.dropFirst(4)) }
    }

    /// The format of `system/name`, parsed from its `format` file by libtraceevent.
    ///
    /// The parsing uses a handle of its own, freed before returning, so that it never touches a
    /// handle that another thread reads with. The corresponding C function is `tep_parse_format`.
    static func format(system: String, name: String, in directory: String) -> EventFormat? {
        guard let text = KernelFile.read("\(directory)/events/\(system)/\(name)/format"), !text.isEmpty,
              let handle = tep_alloc() else { return nil }
        defer { tep_free(handle) }
        var event: UnsafeMutablePointer<tep_event>?
        let result = text.withCString { tep_parse_format(handle, &event, $0, UInt(strlen($0)), system) }
        // The event now belongs to `handle`, which frees it.
        guard let event else { return nil }
        // A print format libtraceevent cannot parse still leaves every field parsed, which is all
        // that reading records needs.
        guard result == TEP_ERRNO__SUCCESS || result == TEP_ERRNO__READ_PRINT_FAILED else { return nil }
        return EventFormat(event)
    }

    /// The event that has `id` now: searched first among the groups of dynamic events (where new
    /// and reused ids appear), then, when `everywhere`, in every system.
    static func event(withID id: Int32, in directory: String, everywhere: Bool) -> (system: String, name: String)? {
        let dynamicGroups = Set((KernelFile.read(directory + "/dynamic_events") ?? "").split(separator: "\n").compactMap {
            line -> String? in
            // "p:group/event target args", "e:group/event ...", "s:group/event fields"
            guard let colon = line.firstIndex(of: ":"), let slash = line.firstIndex(of: "/"), colon < slash else { return nil }
            return String(line[line.index(after: colon)..<slash])
        })
        for group in dynamicGroups.sorted() {
            if let name = event(withID: id, system: group, in: directory) { return (group, name) }
        }
        guard everywhere else { return nil }
        for system in entries(of: directory + "/events") where !dynamicGroups.contains(system) {
            if let name = event(withID: id, system: system, in: directory) { return (system, name) }
        }
        return nil
    }

    private static func event(withID id: Int32, system: String, in directory: String) -> String? {
        entries(of: "\(directory)/events/\(system)").first { self.id(system: system, name: $0, in: directory) == id }
    }

    /// The names in a directory, without `.` and `..`.
    private static func entries(of path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." && entry.pointee.d_type == DT_DIR { names.append(name) }
        }
        return names
    }
}
