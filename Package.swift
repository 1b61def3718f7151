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
    ],
    targets: [
        .target(name: "BotformCore", swiftSettings: strict),
        .target(
            name: "BotformConfig",
            dependencies: ["BotformCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .target(
            name: "BotformCLI",
            dependencies: [
                "BotformCore", "BotformConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(name: "botform", dependencies: ["BotformCLI"], swiftSettings: strict),
        .testTarget(name: "BotformCoreTests", dependencies: ["BotformCore"], swiftSettings: strict),
        .testTarget(
            name: "BotformConfigTests",
            dependencies: ["BotformConfig", "BotformCore"],
            exclude: ["Fixtures"],
            swiftSettings: strict
        ),
        // Runs the built `botform` executable as a user would; depending on it makes `swift test` build it.
        .testTarget(
            name: "BotformCLITests",
            dependencies: ["BotformCore", "botform"],
            swiftSettings: strict
        ),
    ]
)
