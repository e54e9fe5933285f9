// swift-tools-version: 6.1
// libFuzzer drivers for MurmurP2P's wire decoders (harnesses in ../Sources/MurmurFuzz).
// Build and run with ../scripts/fuzz; not part of the main package or CI's build.
import PackageDescription

let package = Package(
    name: "MurmurFuzzing",
    dependencies: [.package(name: "Murmur", path: "..")],
    targets: [
        .target(name: "CFuzzDriver"),
        .executableTarget(
            name: "murmur-fuzz",
            dependencies: ["CFuzzDriver", .product(name: "MurmurFuzz", package: "Murmur")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    ]
)
