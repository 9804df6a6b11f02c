// swift-tools-version:6.0
import PackageDescription

// SwiftPM names a path dependency after its folder, which is whatever the clone is called.
let library = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "swift-tracefs")

// The exporter lives in its own package so that apps depending on TraceFS never fetch an HTTP stack.
let package = Package(
    name: "tracefs-exporter",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tracefs-exporter", targets: ["tracefs-exporter"]),
    ],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        // Config decoding, validation, arming probes and rendering metrics: everything testable.
        .target(
            name: "ExporterCore",
            dependencies: [
                .product(name: "TraceFS", package: library),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The HTTP server and the command line: thin.
        .executableTarget(
            name: "tracefs-exporter",
            dependencies: [
                "ExporterCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ExporterTests",
            dependencies: [
                "ExporterCore", "tracefs-exporter", .product(name: "TraceFS", package: library),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
