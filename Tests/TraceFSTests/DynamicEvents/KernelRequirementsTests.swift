import Testing
import TraceFS

extension KernelSuite {
    /// The capability check against the kernel under test. In the guest run every feature that
    /// `TRACEFS_REQUIRE_FEATURES` names must be reported present: a missing one fails here.
    @Suite struct KernelRequirementsTests {
        @Test(.enabled(if: KernelFeatures.isRoot, "needs root"))
        func capabilitiesAreReadFromTheMountedTracingDirectory() throws {
            let capabilities = try TracingCapabilities.current()
            #expect(capabilities.tracingDirectory.hasSuffix("tracing"))
            #expect(capabilities.dynamicEvents)
            #expect(capabilities.instances)
            #expect(capabilities.supports(.uprobe) == capabilities.uprobeEvents)
            #expect(capabilities.supports(.kprobe) == capabilities.kprobeEvents)
        }

        @Test(.enabled(if: !KernelFeatures.required.isEmpty, "only where the run requires features"))
        func everyRequiredFeatureIsPresent() throws {
            let capabilities = try TracingCapabilities.current()
            let present: [String: Bool] = [
                "kprobes": capabilities.kprobeEvents, "uprobes": capabilities.uprobeEvents,
                "eprobes": capabilities.eprobes, "synthetic": capabilities.syntheticEvents,
                "histograms": capabilities.histograms,
            ]
            for feature in KernelFeatures.required.sorted() {
                #expect(present[feature] == true, "the run requires \(feature), and \(capabilities) lacks it")
            }
        }
    }
}
