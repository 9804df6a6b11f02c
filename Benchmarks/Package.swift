// swift-tools-version:6.0
import PackageDescription

// SwiftPM names a path dependency after its folder, which is whatever the clone is called.
let library = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "swift-tracefs")

// The benchmarks live in their own package so that the library's build never compiles them.
let package = Package(
    name: "swift-tracefs-benchmarks",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.0"),
    ],
    targets: [
        // libtracefs as the C baseline sees it.
        .systemLibrary(name: "CLibTraceFS", pkgConfig: "libtracefs", providers: [.apt(["libtracefs-dev"])]),
        // The same work as the Swift cases, done through the C API directly.
        .target(name: "CBaseline", dependencies: ["CLibTraceFS"]),
        .executableTarget(
            name: "tracefs-bench",
            dependencies: [
                "CBaseline",
                .product(name: "TraceFS", package: library),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            ],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
    ],
    swiftLanguageModes: [.v6]
)
