import MallocInterposerSwift
import TraceFS

#if canImport(Glibc)
import Glibc
#endif

/// The Swift side of each case: the loops a user of the overlay would write.
///
/// Nonisolated, as a tracing tool's reading code would be, so that the Swift concurrency checks of
/// main-actor code (Bench is `@MainActor`) are not measured as the overlay's cost: a main-actor
/// closure can get a run-time executor check per call, and every `next()` of an AsyncSequence on
/// the main actor checks the main executor first (about 45 ns per element, measured with a trivial
/// sequence: 10 million elements took 0.45 s on the main actor, 0.2 s on another actor, under 1 ms
/// nonisolated).
enum SwiftSide {
    struct Print: Decodable {
        let buf: String
        let ip: UInt64
    }

    /// `iterate`: `buf` read as a String.
    static func strings(_ instance: Instance, _ catalog: EventCatalog) throws -> Reading {
        var reading = Reading()
        try instance.readRecords(using: catalog) { record in
            if let text = record.string("buf") { reading.textBytes += Int64(text.utf8.count) }
            reading.count += 1
            return .continue
        }
        return reading
    }

    /// `iterate`, measuring `buf` in place as the C callback does.
    static func bytes(_ instance: Instance, _ catalog: EventCatalog) throws -> Reading {
        var reading = Reading()
        try instance.readRecords(using: catalog) { record in
            reading.textBytes += Int64(record.withUnsafeBytes(of: "buf") { bytes in
                bytes.baseAddress.map { strnlen($0.assumingMemoryBound(to: CChar.self), bytes.count) } ?? 0
            } ?? 0)
            reading.count += 1
            return .continue
        }
        return reading
    }

    /// `rawread-merged` / `rawread-percpu`: `bytes` in the given order, with `buf` looked up once
    /// (a ``FieldHandle``), as the C walk uses the field's offset.
    static func rawBytes(_ instance: Instance, _ catalog: EventCatalog, order: RecordOrder) throws -> Reading {
        var reading = Reading()
        let buf = try catalog.event(system: "ftrace", name: "print").handle(forField: "buf")
        try instance.readRecords(using: catalog, order: order) { record in
            reading.textBytes += Int64(record.withUnsafeBytes(of: buf) { bytes in
                bytes.baseAddress.map { strnlen($0.assumingMemoryBound(to: CChar.self), bytes.count) } ?? 0
            } ?? 0)
            reading.count += 1
            return .continue
        }
        return reading
    }

    /// `iterate` through libtracefs's own iteration (the overlay before its page walk).
    static func iterateBytes(_ instance: Instance, _ catalog: EventCatalog) throws -> Reading {
        try rawBytes(instance, catalog, order: .libtracefsIterate)
    }

    /// `decode`: each record decoded into ``Print``.
    static func decoded(_ instance: Instance, _ catalog: EventCatalog) throws -> Reading {
        var reading = Reading()
        try instance.readRecords(using: catalog) { record in
            let print = try record.decode(Print.self)
            reading.textBytes += Int64(print.buf.utf8.count)
            reading.addresses &+= print.ip
            reading.count += 1
            return .continue
        }
        return reading
    }

    /// `decode`'s reference: the same fields read by hand.
    static func handRead(_ instance: Instance, _ catalog: EventCatalog) throws -> Reading {
        var reading = Reading()
        try instance.readRecords(using: catalog) { record in
            reading.textBytes += Int64(record.string("buf")?.utf8.count ?? 0)
            reading.addresses &+= record.unsigned("ip") ?? 0
            reading.count += 1
            return .continue
        }
        return reading
    }

    /// `stream`: `wanted` records through the AsyncSequence, timed here (the hop into this function
    /// is not), with the allocations of both threads counted.
    static func streamed(
        _ instance: Instance, _ catalog: EventCatalog, wanted: Int
    ) async throws -> (reading: Reading, duration: Duration, allocations: Int) {
        let clock = ContinuousClock()
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.hook()
        let start = clock.now
        var reading = Reading()
        for try await record in instance.records(using: catalog, pollInterval: .milliseconds(1)) {
            if let text = record.string("buf") { reading.textBytes += Int64(text.utf8.count) }
            reading.count += 1
            if reading.count == wanted { break }
        }
        let duration = clock.now - start
        MallocInterposerSwift.unhook()
        return (reading, duration, Int(MallocInterposerSwift.getStatistics().mallocCount))
    }

    /// `lifecycle`: `count` uprobes described, created and destroyed one after another.
    static func uprobeLifecycle(group: String, count: Int) throws {
        for index in 0..<count {
            let probe = try DynamicEvent.uprobe(system: group, event: "e\(index)", file: "/bin/true",
                                                offset: 0x100 + UInt64(index))
            try probe.create()
            try probe.destroy()
        }
    }
}
