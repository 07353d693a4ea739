// swift-tools-version: 6.0
import PackageDescription

/// Modules whose loops must compile to AVX2 + FMA add these settings. Without
/// a CPU baseline Swift turns every `addingProduct` into a call to `fmaf`
/// (40× slower); see README "Build settings" for the trade-off. Set
/// `SOUNDER_PORTABLE=1` to leave them out (a package that depends on Sounder
/// from a URL must, since SwiftPM refuses unsafe flags there) and pass CPU
/// flags yourself.
let vectorFlags: Bool = {
  #if arch(x86_64)
    return Context.environment["SOUNDER_PORTABLE"] == nil
  #else
    return false
  #endif
}()
let vectorSettings: [SwiftSetting] =
  vectorFlags ? [.unsafeFlags(["-Xcc", "-march=x86-64-v3"], .when(platforms: [.linux]))] : []
/// Debug builds, which `swift test` runs, optimise the modules that do the
/// arithmetic (the trainers in them ran 30–100× slower unoptimised) and keep
/// their assertions on. Left out with `SOUNDER_PORTABLE=1`, as the flags above.
let arithmeticSettings: [SwiftSetting] =
  vectorSettings
  + (vectorFlags ? [.unsafeFlags(["-O", "-assert-config", "Debug"], .when(configuration: .debug))] : [])
/// Tells the start-up CPU check (CSupport/CCPUCheck) what the kernels need.
let cpuCheckSettings: [CSetting] =
  vectorFlags ? [.define("SOUNDER_REQUIRE_X86_64_V3", .when(platforms: [.linux]))] : []

let package = Package(
  name: "Sounder",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "Sounder", targets: ["Sounder"]),
    .executable(name: "sounder", targets: ["sounder"]),
    // The command line's library, for the fuzz target (Fuzz/Package.swift).
    .library(name: "SounderCLI", targets: ["SounderCLI"]),
    // One rank of an MPI job (needs Open MPI: libopenmpi-dev); the products
    // above build and run without it.
    .executable(name: "sounder-mpi", targets: ["sounder-mpi"]),
    // The C library (include: CSupport/CSounder/include/sounder.h); tools/build-clib
    // builds it with the Swift runtime inside and installs it as libsounder.so.
    .library(name: "SounderC", type: .dynamic, targets: ["SounderC"]),
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
    .systemLibrary(
      name: "CMPI", path: "CSupport/CMPI", pkgConfig: "ompi-c",
      providers: [.apt(["libopenmpi-dev"])]),
    .target(name: "CAtomics", path: "CSupport/CAtomics"),
    .target(name: "CVectorMath", path: "CSupport/CVectorMath"),
    .target(name: "CCPUCheck", path: "CSupport/CCPUCheck", cSettings: cpuCheckSettings),
    .target(name: "CPerfEvents", path: "CSupport/CPerfEvents"),
    .target(name: "CLaunchAffinity", path: "CSupport/CLaunchAffinity"),

    // The library, one job per module.
    .target(name: "Topology", dependencies: ["CHwloc", "CNuma", "CLaunchAffinity"]),
    .target(name: "SeededRandom"),
    .target(
      name: "Kernels", dependencies: ["CAtomics", "CCPUCheck", "CVectorMath"],
      swiftSettings: arithmeticSettings),
    .target(name: "Learning", dependencies: ["Kernels"], swiftSettings: arithmeticSettings),
    .target(name: "Dataset", exclude: ["README.md"]),
    .target(name: "Ingest", dependencies: ["Dataset", "SeededRandom"]),
    .target(name: "Parallel", dependencies: ["Topology", "CAtomics", "Dataset"]),
    .target(
      name: "Engine",
      dependencies: ["Topology", "CAtomics", "Kernels", "Learning", "Dataset", "Parallel", "SeededRandom"],
      swiftSettings: arithmeticSettings),
    .target(
      name: "Profiling", dependencies: ["Topology", "Engine", "Dataset", "Parallel", "CPerfEvents"],
      swiftSettings: vectorSettings),
    .target(
      name: "Sounder",
      dependencies: [
        "Topology", "SeededRandom", "Kernels", "Learning", "Dataset", "Ingest", "Parallel", "Engine", "Profiling",
      ]),

    // The command line: commands live in a library so tests can drive them.
    .target(
      name: "SounderCLI",
      dependencies: [
        "Sounder",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(name: "sounder", dependencies: ["SounderCLI"]),
    // Scale-out through Open MPI: a Reducer over the ranks, and the command line as a rank.
    .target(name: "SounderMPI", dependencies: ["CMPI", "Sounder"]),
    .executableTarget(name: "sounder-mpi", dependencies: ["SounderCLI", "SounderMPI"]),
    // The C library: the header and what Swift cannot write, and the Swift half.
    .target(name: "CSounder", path: "CSupport/CSounder"),
    .target(name: "SounderC", dependencies: ["CSounder", "CCPUCheck", "Engine", "Dataset", "Learning", "Topology"]),

    .testTarget(name: "TopologyTests", dependencies: ["Topology", "CAtomics"]),
    .testTarget(
      name: "KernelsTests", dependencies: ["Kernels", "CCPUCheck", "SeededRandom"],
      swiftSettings: vectorSettings),
    // Reference implementations the engine never runs, kept as oracles for the tests.
    .target(
      name: "LearningReference", dependencies: ["Learning", "Kernels"], path: "Tests/LearningReference",
      swiftSettings: vectorSettings),
    .testTarget(
      name: "LearningTests", dependencies: ["Learning", "Kernels", "LearningReference"],
      swiftSettings: vectorSettings),
    .testTarget(name: "DatasetTests", dependencies: ["Dataset", "Topology"]),
    .testTarget(name: "ParallelTests", dependencies: ["Parallel", "Dataset", "Topology", "CAtomics"]),
    .testTarget(name: "IngestTests", dependencies: ["Ingest", "SeededRandom"]),
    .testTarget(
      name: "EngineTests", dependencies: ["Engine", "Parallel", "Ingest", "SeededRandom"],
      swiftSettings: vectorSettings),
    .testTarget(name: "ProfilingTests", dependencies: ["Profiling", "Parallel"]),
    .testTarget(name: "SounderTests", dependencies: ["Sounder"]),
    .testTarget(name: "SounderCLITests", dependencies: ["SounderCLI", "sounder"], exclude: ["Fixtures"]),
  ],
  swiftLanguageModes: [.v6]
)
