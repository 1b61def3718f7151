// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "botform",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "botform", targets: ["botform"])
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", exact: "1.0.2"),
        // `FilePath` for swift-subprocess's `Executable.path` (Linux has no System module).
        .package(url: "https://github.com/apple/swift-system.git", from: "1.5.0"),
    ],
    targets: [
        .target(name: "BotformCore", swiftSettings: strict),
        // Located YAML nodes from libyaml's event stream; shared by the configuration and the sealed file.
        .target(
            name: "BotformYAML",
            dependencies: ["BotformCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .target(
            name: "BotformConfig",
            dependencies: ["BotformCore", "BotformYAML"],
            swiftSettings: strict
        ),
        // Plan document → text, JSON, markdown.
        .target(name: "BotformRender", dependencies: ["BotformCore"], swiftSettings: strict),
        // The age format, the sealed file and the journal: where issued secrets go.
        .target(
            name: "BotformSeal",
            dependencies: ["BotformCore", "BotformYAML", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict
        ),
        // The services: the HTTP transport with retries, and one provider per service.
        .target(
            name: "BotformProviders",
            dependencies: [
                "BotformCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(
                    name: "SystemPackage", package: "swift-system",
                    condition: .when(platforms: [.linux, .windows, .android, .wasi, .openbsd])),
            ],
            swiftSettings: strict
        ),
        // A stand-in for the `foks` CLI (FOKS's agent cannot be built here): answers the commands Botform
        // sends as FOKS's code does, keeping its state in a JSON file. For tests only; never a real FOKS.
        .executableTarget(name: "foks-standin", swiftSettings: strict),
        // The Fyso-compatible sandbox server. It shares no wire types with the providers: a client bug and
        // a server bug must not be able to agree.
        .target(
            name: "BotformSandbox",
            dependencies: [
                "BotformCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "BotformCLI",
            dependencies: [
                "BotformCore", "BotformConfig", "BotformRender", "BotformSeal", "BotformProviders", "BotformSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "botform",
            dependencies: [
                "BotformCLI", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Measurements for scripts/bench-apply: raw register calls, the executor without and with sealing.
        .executableTarget(
            name: "botform-bench",
            dependencies: [
                "BotformCore", "BotformProviders", "BotformSeal",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // Helpers several test targets share (temporary directories, child processes, JSON calls).
        .target(
            name: "BotformTestSupport",
            dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client")],
            path: "Tests/BotformTestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "BotformCoreTests", dependencies: ["BotformCore"], swiftSettings: strict),
        .testTarget(
            name: "BotformProvidersTests",
            dependencies: [
                "BotformProviders", "BotformCore", "BotformSandbox", "BotformSeal", "BotformTestSupport",
                // Built so that FoksCLITests can run it from beside the test bundle.
                "foks-standin",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "BotformSealTests", dependencies: ["BotformSeal", "BotformCore", "BotformTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "BotformRenderTests", dependencies: ["BotformRender", "BotformCore"], exclude: ["Golden"],
            swiftSettings: strict),
        .testTarget(
            name: "BotformConfigTests",
            dependencies: ["BotformConfig", "BotformCore"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "BotformSandboxTests",
            dependencies: [
                "BotformSandbox", "BotformCore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        // Runs the built `botform` executable as a user would; depending on it makes `swift test` build it.
        .testTarget(
            name: "BotformCLITests",
            dependencies: [
                "BotformCLI", "BotformCore", "BotformTestSupport", "botform", "foks-standin",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
    ]
)
