// swift-tools-version: 6.1
import PackageDescription

/// The libFuzzer target for what reads untrusted files past the parsers:
/// `.sds` open, the row check, one training epoch and prediction; model files
/// and checkpoints; `.npy` files; `sounder` option parsing. Apart from the
/// library so that it builds only under `tools/fuzz`, which compiles every
/// module with `-sanitize=fuzzer,address` (coverage and AddressSanitizer)
/// and runs it for a bounded time. Depends on the root package by path.
///
/// The parsers' own target (`IngestFuzzTarget.swift`, internal parsers, no
/// files) is built by `tools/fuzz` with swiftc directly.
let package = Package(
  name: "SounderFuzz",
  platforms: [.macOS(.v15)],
  dependencies: [.package(name: "Sounder", path: "..")],
  targets: [
    // libFuzzer's entry for programs with their own main.
    .target(name: "CFuzzDriver", path: "CFuzzDriver"),
    .executableTarget(
      name: "engine-fuzz",
      dependencies: [
        "CFuzzDriver", .product(name: "Sounder", package: "Sounder"),
        .product(name: "SounderCLI", package: "Sounder"),
      ],
      path: "Engine"),
  ],
  swiftLanguageModes: [.v6]
)
