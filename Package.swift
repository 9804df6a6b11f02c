// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-tracefs",
    products: [
        .library(name: "TraceFS", targets: ["TraceFS"]),
        .executable(name: "exec-open", targets: ["exec-open"]),
        .executable(name: "tracefs", targets: ["tracefs"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The distribution's libtracefs and libtraceevent, imported as they are.
        .systemLibrary(
            name: "CTraceFS",
            pkgConfig: "libtracefs",
            providers: [.apt(["libtracefs-dev", "libtraceevent-dev"])]
        ),
        // elfutils' libelf, to find a function's file offset in an executable or library for uprobes.
        .systemLibrary(
            name: "CLibELF",
            pkgConfig: "libelf",
            providers: [.apt(["libelf-dev"])]
        ),
        // The Swift overlay.
        .target(
            name: "TraceFS",
            dependencies: ["CTraceFS", "CLibELF"]
        ),
        .executableTarget(
            name: "exec-open",
            dependencies: [
                "TraceFS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The command line: trace, funccount, funclatency, hist, sql, doctor, list, reap.
        .executableTarget(
            name: "tracefs",
            dependencies: [
                "TraceFS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "TraceFSTests",
            dependencies: ["TraceFS", "CTraceFS"],
            // Kernel output captured for the parsers' tests, read from the source tree.
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// `make docs` only (it sets TRACEFS_DOCS=1): the DocC plugin for Sources/TraceFS/Documentation.docc,
// which neither a build nor a package depending on this one needs to fetch.
if Context.environment["TRACEFS_DOCS"] != nil {
    package.dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"))
}
