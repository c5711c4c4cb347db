// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "kaoping",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kaoping", targets: ["kaoping"]),
        .library(name: "KaopingForms", targets: ["KaopingForms"]),
        .library(name: "KaopingAggregation", targets: ["KaopingAggregation"]),
        .library(name: "KaopingServer", targets: ["KaopingServer"]),
        .library(name: "KaopingCommands", targets: ["KaopingCommands"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
    ],
    targets: [
        // Form definitions: parsing and validation of the files in forms/. No HTTP, no database.
        .target(
            name: "KaopingForms",
            dependencies: [
                .product(name: "Yams", package: "Yams")
            ]
        ),
        // QR codes for invitation slips and posters: Debian's libqrencode (libqrencode-dev).
        .systemLibrary(
            name: "CQRencode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        // Spreadsheet downloads: Debian's libxlsxwriter (libxlsxwriter-dev) writes real .xlsx files.
        .systemLibrary(
            name: "CXlsxWriter",
            pkgConfig: "xlsxwriter",
            providers: [.apt(["libxlsxwriter-dev"])]
        ),
        // The migrations (sql/) and default forms (forms/) as resources of the build, so that an
        // installed binary finds them wherever it runs. The target sits at the package root only
        // to reach those two directories; everything else there belongs to other targets.
        .target(
            name: "KaopingBundledFiles",
            path: ".",
            exclude: [
                "README.md", "docs", "bench", "ops", "Tests",
                "Sources/KaopingForms", "Sources/KaopingAggregation", "Sources/KaopingServer", "Sources/KaopingCommands", "Sources/kaoping",
                "Sources/CQRencode", "Sources/CXlsxWriter",
            ],
            sources: ["Sources/KaopingBundledFiles/BundledFiles.swift"],
            resources: [.copy("sql"), .copy("forms")]
        ),
        // The scoring method: pure Swift, no dependencies, no I/O.
        .target(name: "KaopingAggregation"),
        // The HTTP application, storage, embedded PostgreSQL and background services.
        .target(
            name: "KaopingServer",
            dependencies: [
                "KaopingForms",
                "KaopingAggregation",
                "KaopingBundledFiles",
                "CQRencode",
                "CXlsxWriter",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            resources: [
                .copy("Resources/templates"),
                .copy("Resources/locales"),
                .copy("Resources/static"),
                .copy("Resources/openapi.yaml"),
                .copy("Resources/calendar"),
            ]
        ),
        // The command line's subcommands, as a library: the executable is its entry point only.
        .target(
            name: "KaopingCommands",
            dependencies: [
                "KaopingServer",
                "KaopingForms",
                "KaopingAggregation",
                "KaopingBundledFiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(name: "kaoping", dependencies: ["KaopingCommands"]),
        .testTarget(name: "KaopingFormsTests", dependencies: ["KaopingForms"]),
        .testTarget(
            name: "KaopingAggregationTests",
            dependencies: ["KaopingAggregation", .product(name: "PropertyBased", package: "swift-property-based")],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "KaopingServerTests",
            dependencies: [
                "KaopingServer",
                "KaopingCommands",
                "KaopingAggregation",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            exclude: ["Fuzz", "Fixtures", "Golden"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
