import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// A group name no other test, process or run uses, and the guarantee that its events are gone
/// when the test ends, also when it throws.
enum TemporaryGroup {
    private static let counter = Counter()

    static func name(_ label: String = "t") -> String {
        "swtest_\(label)_\(getpid())_\(counter.next())"
    }

    static func with<Result>(
        _ label: String = "t", _ body: (String) throws -> Result
    ) throws -> Result {
        let group = name(label)
        defer {
            try? DynamicEvent.destroyAll(system: group, force: true)
        }
        return try body(group)
    }

    static func with<Result>(
        _ label: String = "t", _ body: (String) async throws -> Result
    ) async throws -> Result {
        let group = name(label)
        defer {
            try? DynamicEvent.destroyAll(system: group, force: true)
        }
        return try await body(group)
    }
}

import Synchronization

final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.add(1, ordering: .relaxed).newValue }
}
