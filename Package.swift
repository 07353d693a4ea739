// swift-tools-version: 6.0
import PackageDescription

/// Modules whose loops must compile to AVX2 + FMA add these settings. Without
/// a CPU baseline Swift turns every `addingProduct` into a call to `fmaf`
/// (40× slower); see README "Build settings" for the trade-off.
let package = Package(
  name: "Sounder",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "Sounder", targets: ["Sounder"]),
    .executable(name: "sounder", targets: ["sounder"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    // C shims: only what Swift cannot import by itself.
    .systemLibrary(
      name: "CHwloc", path: "CSupport/CHwloc", pkgConfig: "hwloc",
      providers: [.apt(["libhwloc-dev"])]),
    .systemLibrary(
      name: "CNuma", path: "CSupport/CNuma", pkgConfig: "numa",
      providers: [.apt(["libnuma-dev"])]),
    .target(name: "CAtomics", path: "CSupport/CAtomics"),

    // The library, one job per module.
    .target(name: "Topology", dependencies: ["CHwloc", "CNuma"]),
    .target(name: "Dataset", dependencies: ["Topology"], exclude: ["README.md"]),
    .target(name: "Ingest", dependencies: ["Dataset"]),
    .target(name: "Sounder", dependencies: ["Topology", "Dataset", "Ingest"]),

    // The command line: commands live in a library so tests can drive them.
    .target(
      name: "SounderCLI",
      dependencies: [
        "Sounder",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(name: "sounder", dependencies: ["SounderCLI"]),

    .testTarget(name: "TopologyTests", dependencies: ["Topology", "CAtomics"]),
    .testTarget(name: "DatasetTests", dependencies: ["Dataset", "Topology"]),
    .testTarget(name: "IngestTests", dependencies: ["Ingest"]),
    .testTarget(name: "SounderCLITests", dependencies: ["SounderCLI", "sounder"], exclude: ["Fixtures"]),
  ],
  swiftLanguageModes: [.v6]
)
