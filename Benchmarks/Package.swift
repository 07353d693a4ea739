// swift-tools-version: 6.1
import PackageDescription

/// Benchmarks for Sounder, apart from the library so that it builds without
/// benchmark dependencies. Depends on the root package by path.
///
/// - `KernelRatios` (run by `tools/bench-kernels`): Swift kernels against C
///   reference kernels in one run, and the all-core dot against a read probe;
///   prints the ratio table of BENCHMARKS.md.
/// - `KernelBenchmarks`: the same kernels under ordo-one/benchmark
///   (`swift package benchmark`), for its statistics and regression checks.
/// - `EngineBenchmarks`: one training epoch per strategy on generated data,
///   and LIBSVM parsing, with a committed baseline that `tools/bench-regression`
///   checks against.
/// - `data-bench` (run by `tools/bench-ingest`): time to open a .sds file and
///   read its first row.
///
/// The C references need AVX2 + FMA (`-march=native` on such a machine).
let package = Package(
  name: "SounderBenchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(name: "Sounder", path: ".."),
    .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
  ],
  targets: [
    .target(name: "CReference", cSettings: [.unsafeFlags(["-O3", "-march=native"])]),
    .target(
      name: "KernelWorkloads",
      dependencies: ["CReference", .product(name: "Sounder", package: "Sounder")]),
    .executableTarget(name: "KernelRatios", dependencies: ["KernelWorkloads"]),
    .executableTarget(
      name: "KernelBenchmarks",
      dependencies: ["KernelWorkloads", .product(name: "Benchmark", package: "benchmark")],
      path: "Benchmarks/KernelBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    .executableTarget(
      name: "EngineBenchmarks",
      dependencies: [.product(name: "Sounder", package: "Sounder"), .product(name: "Benchmark", package: "benchmark")],
      path: "Benchmarks/EngineBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    // Data (issue 3): time to open a .sds file and read its first row.
    .executableTarget(name: "data-bench", dependencies: [.product(name: "Sounder", package: "Sounder")]),
  ],
  swiftLanguageModes: [.v6]
)
