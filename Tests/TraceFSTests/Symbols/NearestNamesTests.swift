import Testing
@_spi(Tools) @testable import TraceFS

/// The "similar names" of a symbol that is not found: by edit distance, or a shared prefix.
@Suite struct NearestNamesTests {
    static let names = ["malloc", "calloc", "realloc", "free", "malloc_usable_size", "malloc_trim", "mallopt",
                        "memalign", "pvalloc", "valloc", "pthread_create", "strlen"]

    @Test func closestFirstAtMostFive() {
        let nearest = NearestNames.nearest(to: "mallocc", in: Self.names)
        #expect(nearest.first == "malloc")
        #expect(nearest.count <= 5)
        // Distance 1, then distance 2 by longer common prefix, then a far name sharing "mall".
        #expect(nearest == ["malloc", "mallopt", "calloc", "valloc", "malloc_trim"])
    }

    @Test func aSharedPrefixQualifiesAFarName() {
        #expect(NearestNames.nearest(to: "pthread_creat", in: Self.names) == ["pthread_create"])
        #expect(NearestNames.nearest(to: "pthr", in: Self.names) == ["pthread_create"])
    }

    @Test func nothingSimilarGivesNothing() {
        #expect(NearestNames.nearest(to: "qqqqqqqqqq", in: Self.names).isEmpty)
        #expect(NearestNames.nearest(to: "malloc", in: ["malloc"]).isEmpty)
    }

    @Test func aVeryLongQueryIsCheap() {
        let clock = ContinuousClock()
        let names = (0..<3000).map { "function_\($0)" }
        let start = clock.now
        #expect(NearestNames.nearest(to: String(repeating: "m", count: 5000), in: names).isEmpty)
        #expect(clock.now - start < .seconds(1))
    }
}
