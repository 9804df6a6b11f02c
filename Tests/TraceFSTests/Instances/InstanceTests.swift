import Testing
import TraceFS

/// Instance lifecycle against the real tracefs.
extension KernelSuite {
    @Suite(.enabled(if: KernelFeatures.isRoot, "needs root"))
    struct InstanceTests {
        @Test func createsControlsAndDestroysAnInstance() throws {
            let name = TemporaryInstance.name("life")
            let instance = try Instance.create(named: name)
            defer { try? instance.destroy() }
            #expect(instance.isNew)
            #expect(instance.exists)
            #expect(try Instance.names().contains(name))
            #expect(instance.directory?.hasSuffix("/instances/\(name)") == true)

            try instance.setTracing(on: false)
            #expect(try !instance.isTracingOn())
            try instance.setTracing(on: true)
            #expect(try instance.isTracingOn())

            try instance.setBufferSize(kilobytes: 64)
            #expect(try instance.bufferSize(cpu: 0) >= 64)
            #expect(try instance.bufferSize(cpu: 0) < 128)
            #expect(try instance.bufferSize() >= instance.bufferSize(cpu: 0))

            try instance.enableEvent(system: "sched", event: "sched_switch")
            #expect(try instance.isEventEnabled(system: "sched", event: "sched_switch"))
            try instance.disableEvent(system: "sched", event: "sched_switch")
            #expect(try !instance.isEventEnabled(system: "sched", event: "sched_switch"))
            let missing = try #require(throws: TraceFSError.self) {
                try instance.enableEvent(system: "no_such_system", event: "nope")
            }
            #expect(missing.code == .notFound)

            try instance.writeMarker("before clear")
            try instance.clear()
            let catalog = try EventCatalog.local(systems: ["ftrace"])
            var count = 0
            // Nothing left and nothing enabled: the read says so rather than return silently.
            let empty = try #require(throws: TraceFSError.self) {
                try instance.readRecords(using: catalog) { _ in count += 1; return .continue }
            }
            #expect(empty.code == .notFound)
            #expect(count == 0)

            let reopened = try Instance.open(named: name)
            #expect(!reopened.isNew)

            try instance.destroy()
            #expect(!instance.exists)
            #expect(try !Instance.names().contains(name))
            try instance.destroy()  // twice is safe
            #expect(throws: TraceFSError.self) { try Instance.open(named: name) }
        }

        @Test func aTemporaryInstanceIsRemovedWhenItsScopeThrows() throws {
            struct Failure: Error {}
            let name = TemporaryInstance.name("scope")
            #expect(throws: Failure.self) {
                try Instance.withTemporary(named: name) { instance in
                    #expect(instance.exists)
                    throw Failure()
                }
            }
            #expect(try !Instance.names().contains(name))
        }

        @Test func aTemporaryInstanceRefusesToTakeOverAnExistingOne() throws {
            let name = TemporaryInstance.name("taken")
            let existing = try Instance.create(named: name)
            defer { try? existing.destroy() }
            let error = try #require(throws: TraceFSError.self) {
                try Instance.withTemporary(named: name) { _ in }
            }
            #expect(error.code == .alreadyExists)
            #expect(existing.exists)
        }

        @Test func theTopInstanceCannotBeDestroyed() throws {
            let top = try Instance.top
            #expect(top.name == nil)
            #expect(throws: TraceFSError.self) { try top.destroy() }
        }
    }
}
