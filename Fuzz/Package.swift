// swift-tools-version: 6.1
// libFuzzer targets for the parsers of untrusted files and the daemons' request validators (issue 13). Built and run by
// scripts/fuzz with -sanitize=fuzzer (Linux); not part of the main build.
import PackageDescription

let package = Package(
    name: "infaas-fuzz",
    dependencies: [.package(name: "infaas-swift", path: "..")],
    targets: [
        .target(name: "CFuzzDriver"),
        .executableTarget(name: "FuzzTraces", dependencies: ["CFuzzDriver", .product(name: "InfaasTraces", package: "infaas-swift")]),
        .executableTarget(name: "FuzzExperiment", dependencies: ["CFuzzDriver", .product(name: "InfaasSimulator", package: "infaas-swift")]),
        .executableTarget(name: "FuzzProfileCSV", dependencies: ["CFuzzDriver", .product(name: "InfaasProfiles", package: "infaas-swift")]),
        .executableTarget(name: "FuzzConfig", dependencies: ["CFuzzDriver", .product(name: "InfaasProfiles", package: "infaas-swift")]),
        .executableTarget(name: "FuzzProfilesH5", dependencies: ["CFuzzDriver", .product(name: "InfaasProfiles", package: "infaas-swift"),
                                                                 .product(name: "InfaasCore", package: "infaas-swift")]),
        .executableTarget(name: "FuzzRequests", dependencies: ["CFuzzDriver", .product(name: "InfaasRPC", package: "infaas-swift")]),
    ],
    swiftLanguageModes: [.v6]
)
