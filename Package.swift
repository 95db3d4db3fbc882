// swift-tools-version: 6.1
// infaas-swift: a simulation-first re-creation of INFaaS (USENIX ATC'21) with a live mode.
// Module layout follows DESIGN.md §2: one target per concern.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "infaas-swift",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "infaas", targets: ["infaas"]),
        .library(name: "InfaasCore", targets: ["InfaasCore"]),
        .library(name: "InfaasProfiles", targets: ["InfaasProfiles"]),
        .library(name: "InfaasRegistry", targets: ["InfaasRegistry"]),
        .library(name: "InfaasTraces", targets: ["InfaasTraces"]),
        .library(name: "InfaasPolicies", targets: ["InfaasPolicies"]),
        .library(name: "InfaasRuntime", targets: ["InfaasRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // C libraries through pkg-config (PLATFORM-NOTES.md).
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CGSL", pkgConfig: "gsl", providers: [.apt(["libgsl-dev"])]),
        .systemLibrary(name: "CImageCodec", pkgConfig: "libpng", providers: [.apt(["libturbojpeg0-dev", "libpng-dev"])]),
        // Our own declaration of the part of ONNX Runtime's C API we call; the library itself is
        // found and dlopen-ed at run time (pip's onnxruntime wheel), never linked at build time.
        .target(name: "COnnxRuntime", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),

        .target(name: "HDF5Kit", dependencies: ["CHDF5"], swiftSettings: strict),
        .target(name: "GSLKit", dependencies: ["CGSL"], swiftSettings: strict),
        .target(name: "InfaasCore", swiftSettings: strict),
        .target(name: "InfaasProfiles", dependencies: ["InfaasCore", "HDF5Kit", "GSLKit"], swiftSettings: strict),
        .target(name: "InfaasPolicies", dependencies: ["InfaasCore"], swiftSettings: strict),
        .target(
            name: "InfaasSimulator",
            dependencies: ["InfaasCore", "InfaasPolicies", "InfaasTraces", "InfaasProfiles", "HDF5Kit", "GSLKit",
                           .product(name: "Histogram", package: "hdrhistogram-swift"),
                           .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .target(name: "InfaasTraces", dependencies: ["InfaasCore", "GSLKit"], swiftSettings: strict),
        .target(name: "InfaasRuntime", dependencies: ["InfaasCore", "COnnxRuntime", "CImageCodec"], swiftSettings: strict),
        .target(
            name: "InfaasRegistry",
            dependencies: ["InfaasCore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .target(
            name: "InfaasCLI",
            dependencies: [
                "InfaasCore", "InfaasProfiles", "InfaasRegistry", "GSLKit", "InfaasSimulator", "InfaasPolicies", "InfaasTraces",
                "InfaasRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "infaas", dependencies: ["InfaasCLI"], swiftSettings: strict),

        .testTarget(name: "HDF5KitTests", dependencies: ["HDF5Kit", "CHDF5"], swiftSettings: strict),
        .testTarget(name: "GSLKitTests", dependencies: ["GSLKit"], swiftSettings: strict),
        .testTarget(name: "InfaasCoreTests", dependencies: ["InfaasCore"], swiftSettings: strict),
        .testTarget(name: "InfaasProfilesTests", dependencies: ["InfaasProfiles", "HDF5Kit"], swiftSettings: strict),
        .testTarget(name: "InfaasPoliciesTests", dependencies: ["InfaasPolicies"], swiftSettings: strict),
        .testTarget(name: "InfaasSimulatorTests", dependencies: ["InfaasSimulator", "InfaasPolicies", "InfaasTraces", "HDF5Kit"], swiftSettings: strict),
        .testTarget(name: "InfaasTracesTests", dependencies: ["InfaasTraces", "GSLKit"], swiftSettings: strict),
        .testTarget(name: "InfaasRegistryTests", dependencies: ["InfaasRegistry", "InfaasProfiles"], swiftSettings: strict),
        .testTarget(name: "InfaasRuntimeTests", dependencies: ["InfaasRuntime"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "InfaasCLITests", dependencies: ["InfaasCLI", "InfaasProfiles"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
