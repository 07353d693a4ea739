// swift-tools-version: 6.0
import PackageDescription

/// Benchmarks live in their own package so the library builds without them.
let package = Package(
  name: "SounderBenchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [.package(name: "Sounder", path: "..")],
  targets: [
    // Data (issue 3): time to open a .sds file and read its first row.
    .executableTarget(name: "data-bench", dependencies: [.product(name: "Sounder", package: "Sounder")])
  ],
  swiftLanguageModes: [.v6]
)
