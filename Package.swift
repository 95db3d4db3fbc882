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
        .library(name: "InfaasSimulator", targets: ["InfaasSimulator"]),
        .library(name: "InfaasRPC", targets: ["InfaasRPC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // The master's REST front door (Open Inference Protocol v2 over HTTP); no traits: it
        // needs neither swift-configuration nor the full-Foundation extras.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
    ],
    targets: [
        // C libraries through pkg-config (PLATFORM-NOTES.md).
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CGSL", pkgConfig: "gsl", providers: [.apt(["libgsl-dev"])]),
        .systemLibrary(name: "CGLPK", providers: [.apt(["libglpk-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .systemLibrary(name: "CImageCodec", pkgConfig: "libpng", providers: [.apt(["libturbojpeg0-dev", "libpng-dev"])]),
        // Our own declaration of the part of ONNX Runtime's C API we call; the library itself is
        // found and dlopen-ed at run time (pip's onnxruntime wheel), never linked at build time.
        .target(name: "COnnxRuntime", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),

        .target(name: "HDF5Kit", dependencies: ["CHDF5"], swiftSettings: strict),
        .target(name: "GSLKit", dependencies: ["CGSL"], swiftSettings: strict),
        .target(name: "GLPKKit", dependencies: ["CGLPK"], swiftSettings: strict),
        .target(name: "InfaasCore", swiftSettings: strict),
        .target(name: "InfaasProfiles", dependencies: ["InfaasCore", "HDF5Kit", "GSLKit"], swiftSettings: strict),
        .target(name: "InfaasPolicies", dependencies: ["InfaasCore"], swiftSettings: strict),
        // The clairvoyant cost bound of a trace (a MILP per interval, solved by GLPK).
        .target(name: "InfaasOracle", dependencies: ["InfaasCore", "InfaasPolicies", "GLPKKit"], swiftSettings: strict),
        .target(
            name: "InfaasSimulator",
            dependencies: ["InfaasCore", "InfaasPolicies", "InfaasOracle", "InfaasTraces", "InfaasProfiles", "HDF5Kit", "GSLKit",
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
        // Live mode (DESIGN.md §2): RPC, master, worker, worker providers.
        .target(
            name: "InfaasRPC",
            dependencies: [
                "InfaasCore",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Protos"],
            swiftSettings: strict
        ),
        .target(
            name: "InfaasTelemetry",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "InfaasCloud",
            dependencies: ["InfaasCore", "InfaasTelemetry", "COpenSSL", "CCurl", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .target(
            name: "InfaasWorker",
            dependencies: [
                "InfaasCore", "InfaasPolicies", "InfaasRPC", "InfaasTelemetry", "InfaasRuntime", "InfaasCloud",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "InfaasMaster",
            dependencies: [
                "InfaasCore", "InfaasPolicies", "InfaasRegistry", "InfaasProfiles", "InfaasRPC", "InfaasTelemetry", "InfaasCloud",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "InfaasCLI",
            dependencies: [
                "InfaasCore", "InfaasProfiles", "InfaasRegistry", "GSLKit", "InfaasSimulator", "InfaasPolicies", "InfaasTraces",
                "InfaasRPC", "InfaasTelemetry", "InfaasMaster", "InfaasCloud", "InfaasRuntime", "InfaasWorker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Test-only helpers shared by test targets (the AWS emulator harness).
        .target(name: "InfaasTestSupport", swiftSettings: strict),
        .executableTarget(name: "infaas", dependencies: ["InfaasCLI"], swiftSettings: strict),

        .testTarget(name: "HDF5KitTests", dependencies: ["HDF5Kit", "CHDF5"], swiftSettings: strict),
        .testTarget(name: "GSLKitTests", dependencies: ["GSLKit"], swiftSettings: strict),
        .testTarget(name: "GLPKKitTests", dependencies: ["GLPKKit"], swiftSettings: strict),
        .testTarget(name: "InfaasOracleTests", dependencies: ["InfaasOracle", "InfaasPolicies", "InfaasCore"], swiftSettings: strict),
        .testTarget(name: "InfaasCoreTests", dependencies: ["InfaasCore"], swiftSettings: strict),
        .testTarget(name: "InfaasProfilesTests", dependencies: ["InfaasProfiles", "HDF5Kit"], swiftSettings: strict),
        .testTarget(name: "InfaasPoliciesTests", dependencies: ["InfaasPolicies"], swiftSettings: strict),
        .testTarget(name: "ParityTests", dependencies: ["InfaasSimulator", "InfaasMaster", "InfaasWorker", "InfaasPolicies", "InfaasRPC", "InfaasRegistry", "InfaasCore"],
                    swiftSettings: strict),
        .testTarget(name: "InfaasSimulatorTests", dependencies: ["InfaasSimulator", "InfaasPolicies", "InfaasTraces", "HDF5Kit"], swiftSettings: strict),
        .testTarget(name: "InfaasTracesTests", dependencies: ["InfaasTraces", "GSLKit"], swiftSettings: strict),
        .testTarget(name: "InfaasRegistryTests", dependencies: ["InfaasRegistry", "InfaasProfiles"], swiftSettings: strict),
        .testTarget(name: "InfaasRuntimeTests", dependencies: ["InfaasRuntime"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(
            name: "InfaasCLITests",
            dependencies: [
                "InfaasCLI", "InfaasProfiles", "InfaasRPC", "InfaasCloud", "InfaasTestSupport", "InfaasRegistry",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "InfaasMasterTests",
            dependencies: ["InfaasMaster", "InfaasPolicies", "InfaasRPC", "InfaasRegistry", "InfaasCore", "InfaasCloud", "InfaasTestSupport",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "GRPCCore", package: "grpc-swift-2"),
                           .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "InfaasWorkerTests",
            dependencies: ["InfaasWorker", "InfaasRuntime", "InfaasRPC", "InfaasCore", "InfaasCloud", "InfaasTestSupport", .product(name: "Logging", package: "swift-log"),
                           .product(name: "GRPCCore", package: "grpc-swift-2"),
                           .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport")],
            swiftSettings: strict
        ),
        .testTarget(name: "InfaasRPCTests", dependencies: ["InfaasRPC", "InfaasCore"], swiftSettings: strict),
        .testTarget(name: "InfaasCloudTests", dependencies: ["InfaasCloud", "InfaasTestSupport"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
