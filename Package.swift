// swift-tools-version: 6.1
// Murmur: decentralized AI on edge devices. See README.md and docs/.
import PackageDescription

let package = Package(
    name: "Murmur",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "MurmurCore", targets: ["MurmurCore"]),
        .library(name: "MurmurTensor", targets: ["MurmurTensor"]),
        .library(name: "MurmurML", targets: ["MurmurML"]),
        .library(name: "MurmurPrivacy", targets: ["MurmurPrivacy"]),
        .library(name: "MurmurFL", targets: ["MurmurFL"]),
        .library(name: "MurmurSecAgg", targets: ["MurmurSecAgg"]),
        .library(name: "MurmurLog", targets: ["MurmurLog"]),
        .library(name: "MurmurLogHTTP", targets: ["MurmurLogHTTP"]),
        .library(name: "MurmurVerify", targets: ["MurmurVerify"]),
        .library(name: "MurmurLedger", targets: ["MurmurLedger"]),
        .library(name: "MurmurP2P", targets: ["MurmurP2P"]),
        .library(name: "MurmurFuzz", targets: ["MurmurFuzz"]),
        .library(name: "MurmurNode", targets: ["MurmurNode"]),
        .executable(name: "murmur", targets: ["murmur"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        // SQLite for the log's tiles (synchronous API, WAL, explicit transactions); needs libsqlite3-dev.
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        // libp2p over TCP (MurmurP2P): event loops, channels, ByteBuffer.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // libp2p's protobufs (MurmurP2P only): the runtime for the code scripts/gen-proto generates
        // and commits under Sources/MurmurP2P/Proto/; pinned because generated code and runtime match.
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        // HTTP for the log's tlog-tiles read API and the tlog-witness endpoint (MurmurLogHTTP only).
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // Already pulled in by Hummingbird; named so tests and embedders can stop a server gracefully.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // The node's /metrics: swift-metrics API with a Prometheus text exporter (MurmurNode only).
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // TOML node configuration files (MurmurNode only).
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        // C micro-kernels compiled per function for AVX2+FMA and chosen at run time
        // (see docs/gemm.md); no unsafeFlags, so Murmur stays a well-behaved dependency.
        .target(name: "CMurmurKernels"),
        .target(
            name: "MurmurCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(name: "MurmurTensor", dependencies: ["CMurmurKernels", "MurmurCore"]),
        .target(name: "MurmurML", dependencies: ["MurmurTensor", "MurmurCore"]),
        // Differential privacy: RDP and PLD accountants, calibration, clipping and noise.
        .target(name: "MurmurPrivacy", dependencies: ["MurmurCore", "MurmurTensor"]),
        .target(
            name: "MurmurFL",
            dependencies: ["MurmurML", "MurmurCore", "MurmurPrivacy", "MurmurSecAgg", "CMurmurKernels", .product(name: "Logging", package: "swift-log")]
        ),
        // RFC 9162 Merkle log: tiles, proofs, signed-note checkpoints, witnesses (docs/log.md).
        .target(
            name: "MurmurLog",
            dependencies: [
                "MurmurCore", "CMurmurKernels",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // MurmurLog over HTTP: tlog-tiles read API and tlog-witness add-checkpoint (Hummingbird),
        // and a client that verifies proofs from tiles alone (docs/log.md).
        .target(
            name: "MurmurLogHTTP",
            dependencies: [
                "MurmurLog",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "MurmurVerify",
            dependencies: ["MurmurML", "MurmurCore", "CMurmurKernels", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Contributions, rewards and governance as signed records in a MurmurLog log, replayed by a
        // deterministic state machine (docs/ledger.md).
        .target(name: "MurmurLedger", dependencies: ["MurmurCore", "MurmurLog"]),
        // SecAgg+ (Bell et al. CCS 2020 over Bonawitz et al. CCS 2017) as transport-agnostic
        // state machines; see docs/secagg.md.
        .target(
            name: "MurmurSecAgg",
            dependencies: [
                "MurmurCore", "MurmurTensor", "CMurmurKernels",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // OpenSSL 3's libcrypto loaded at run time (dlopen libcrypto.so.3; nothing needed to build): the
        // Noise transport's ChaCha20-Poly1305 sealed and opened straight in NIO buffers, which
        // swift-crypto's Data-returning API cannot; without the library swift-crypto does it (docs/p2p.md).
        .target(name: "CMurmurOpenSSL", linkerSettings: [.linkedLibrary("dl")]),
        // libp2p over TCP: multiaddr, multistream-select, Noise, yamux, identify, ping (docs/p2p.md).
        .target(
            name: "MurmurP2P",
            dependencies: [
                "MurmurCore", "CMurmurOpenSSL",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            // The sources of Proto/*.pb.swift (scripts/gen-proto), not compiled by SwiftPM.
            exclude: ["Proto/keys.proto", "Proto/noise.proto", "Proto/identify.proto", "Proto/pubsub.proto", "Proto/kad.proto"]
        ),
        // The P2P wire decoders as fuzz harnesses: libFuzzer drives them from Fuzz/ (scripts/fuzz),
        // the unit tests run them over seeds and random inputs.
        .target(
            name: "MurmurFuzz",
            dependencies: ["MurmurP2P", "MurmurCore", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // `murmur node`: networked rounds over libp2p, the node's HTTP API, config and daemon (docs/node.md).
        .target(
            name: "MurmurNode",
            dependencies: [
                "MurmurFL", "MurmurP2P", "MurmurSecAgg", "MurmurML", "MurmurCore", "MurmurLog", "MurmurLogHTTP",
                "MurmurLedger", "MurmurVerify",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                // The daemon (Config/, Storage/, API/, Metrics/): /metrics, TOML config, the node's own
                // tables in node.sqlite, graceful shutdown on signals.
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "murmur",
            dependencies: [
                "MurmurCore", "MurmurTensor", "MurmurML", "MurmurFL", "MurmurPrivacy", "MurmurVerify", "MurmurLog", "MurmurLedger", "MurmurP2P", "MurmurLogHTTP",
                "CMurmurKernels", "MurmurNode",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "MurmurCoreTests", dependencies: ["MurmurCore", "MurmurTestSupport"]),
        .testTarget(name: "MurmurTensorTests", dependencies: ["MurmurTensor", "MurmurTestSupport"]),
        .testTarget(name: "MurmurMLTests", dependencies: ["MurmurML", "MurmurTestSupport"]),
        // Shared by the test targets: process runner, the `murmur` binary, the Python reference peers.
        .target(name: "MurmurTestSupport", path: "Tests/Support"),
        .testTarget(name: "MurmurPrivacyTests", dependencies: ["MurmurPrivacy", "MurmurTestSupport"]),
        .testTarget(name: "MurmurFLTests", dependencies: ["MurmurFL", "MurmurML", "MurmurTestSupport"]),
        .testTarget(
            name: "MurmurSecAggTests",
            dependencies: [
                "MurmurSecAgg", "MurmurCore", "MurmurTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // Depends on `murmur` so the crash-safety test can SIGKILL a real appending process.
        .testTarget(
            name: "MurmurLogTests",
            dependencies: [
                "MurmurLog", "MurmurLogHTTP", "murmur", "MurmurTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            resources: [.copy("Data")]
        ),
        .testTarget(name: "MurmurVerifyTests", dependencies: ["MurmurVerify", "MurmurML", "CMurmurKernels", "MurmurTestSupport"]),
        .testTarget(name: "MurmurLedgerTests", dependencies: ["MurmurLedger", "MurmurLog", "MurmurCore", "MurmurTestSupport"]),
        // Byte-level protocol tests plus interop with py-libp2p (scripts/reference/libp2p_peer.py).
        .testTarget(
            name: "MurmurP2PTests",
            dependencies: [
                "MurmurP2P", "MurmurCore", "MurmurTestSupport", "murmur", "MurmurFuzz",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "MurmurNodeTests", dependencies: ["MurmurNode", "MurmurTestSupport"]),
        // Runs the built `murmur` binary: exit codes, error messages, --json output, files written.
        .testTarget(name: "MurmurCLITests", dependencies: ["murmur", "MurmurTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
