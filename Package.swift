// swift-tools-version:6.0
import PackageDescription

// Release binaries are linked by lld with packed relative relocations (DT_RELR) and export
// only what the dynamic linker needs: a process then reads and keeps resident megabytes less
// of its binary at start, still position-independent (bench/README.md, footprint).
let releaseLinking: [LinkerSetting] = [
    .unsafeFlags(["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic"],
                 .when(configuration: .release)),
]

let package = Package(
    name: "Helios",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "helios", targets: ["helios"]),
        .executable(name: "helios-agent", targets: ["helios-agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.29.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
    ],
    targets: [
        // C libraries, as Debian ships them.
        .systemLibrary(name: "CZooKeeper", path: "Sources/CZooKeeper"),
        .systemLibrary(name: "CGit2", path: "Sources/CGit2", pkgConfig: "libgit2",
                       providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "CCurlShims", dependencies: ["CCurl"]),
        // The revision a release binary was built from (`make cli`, `make release`).
        .target(name: "CBuildInfo"),

        // Wrappers: Swift APIs over the C libraries; they know nothing of Helios.
        .target(name: "BlockingIO"),
        .target(name: "ZooKeeper", dependencies: ["CZooKeeper", .product(name: "Logging", package: "swift-log")]),
        .target(name: "Git", dependencies: ["CGit2"]),
        .target(name: "HTTPTransport", dependencies: ["BlockingIO"]),
        .target(name: "URLTransport", dependencies: ["HTTPTransport", "CCurl", "CCurlShims", "BlockingIO"]),
        .target(name: "DockerEngine", dependencies: ["HTTPTransport"]),

        // Helios.
        .target(name: "HeliosModel"),
        .target(name: "HeliosManifests", dependencies: [
            "HeliosModel", "Git", .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "HeliosPlanner", dependencies: ["HeliosModel"]),
        .target(name: "HeliosStore", dependencies: [
            "HeliosModel", "ZooKeeper", .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "HeliosAgent", dependencies: [
            "HeliosStore", "DockerEngine",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "HeliosMaster", dependencies: [
            "HeliosStore", "HeliosPlanner", "HeliosManifests", "Git",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTLS", package: "hummingbird"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // What `helios agent` and `helios-agent` share: the agent's flags, the daemons' flags.
        .target(name: "HeliosAgentCommand", dependencies: [
            "HeliosAgent", "HeliosStore", "HeliosModel", "DockerEngine", "CBuildInfo",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "helios", dependencies: [
            "HeliosModel", "HeliosManifests", "HeliosPlanner", "HeliosStore", "HeliosAgentCommand",
            "HeliosAgent", "HeliosMaster", "Git", "HTTPTransport", "URLTransport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], linkerSettings: releaseLinking),

        // The agent alone, for hosts: no CLI, master, libgit2 or libcurl in it.
        .executableTarget(name: "helios-agent", dependencies: [
            "HeliosAgentCommand", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], linkerSettings: releaseLinking),

        // `make bench`: measured figures next to a baseline taken in the same run.
        .executableTarget(name: "helios-bench", dependencies: [
            "HeliosManifests", "HeliosPlanner", "HeliosModel", "HeliosStore", "ZooKeeper", "CZooKeeper", "Git",
            "DockerEngine", "HTTPTransport", "HeliosMaster", .product(name: "Yams", package: "Yams"),
        ]),

        // `make chaos`: a real cluster under faults from a printed seed, its invariants checked.
        .executableTarget(name: "helios-chaos", dependencies: [
            "HeliosManifests", "HeliosPlanner", "HeliosModel", "HeliosStore", "ZooKeeper", "Git", "DockerEngine",
            "HeliosTestSupport",
        ]),

        // Tests: one target per module, plus the system tests that run the real binary.
        .target(name: "HeliosTestSupport", path: "Tests/HeliosTestSupport"),
        .testTarget(name: "ZooKeeperTests", dependencies: ["ZooKeeper", "HeliosTestSupport"]),
        .testTarget(name: "GitTests", dependencies: ["Git", "HeliosTestSupport"]),
        .testTarget(name: "HTTPTransportTests", dependencies: ["HTTPTransport", "HeliosTestSupport"]),
        .testTarget(name: "DockerEngineTests", dependencies: ["DockerEngine", "HeliosTestSupport"]),
        .testTarget(name: "HeliosModelTests", dependencies: ["HeliosModel"]),
        .testTarget(name: "HeliosManifestsTests", dependencies: [
            "HeliosManifests", "HeliosTestSupport", .product(name: "Yams", package: "Yams"),
        ]),
        .testTarget(name: "HeliosPlannerTests", dependencies: ["HeliosPlanner", "HeliosTestSupport"]),
        .testTarget(name: "HeliosStoreTests", dependencies: ["HeliosStore", "HeliosPlanner", "HeliosTestSupport"]),
        .testTarget(name: "HeliosAgentTests", dependencies: ["HeliosAgent", "HeliosPlanner", "HeliosTestSupport"]),
        .testTarget(name: "HeliosMasterTests", dependencies: [
            "HeliosMaster", "HeliosPlanner", "HeliosTestSupport", "Git", .product(name: "Hummingbird", package: "hummingbird"),
        ]),
        .testTarget(name: "SystemTests", dependencies: ["helios", "helios-agent", "HeliosTestSupport", "DockerEngine", "ZooKeeper"]),
    ]
)
