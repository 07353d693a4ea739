import Benchmark
import KernelWorkloads

/// The cache-resident kernels under ordo-one/benchmark, Swift and C side by
/// side: `swift package benchmark` in Benchmarks/. The DRAM and all-core
/// figures come from `tools/bench-kernels`, which prints ratios.
let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock, .throughput], scalingFactor: .kilo, maxDuration: .seconds(1))
  let region = Region(floats: (512 << 10) / 4 + 1024)
  let rows = SparseRows(rows: 1024, nnz: 64, features: 32 << 10)
  let model = Region(floats: 32 << 10)
  let workloads =
    denseWorkloads(region: region, bytes: 4 << 10, size: "4 KB")
    + denseWorkloads(region: region, bytes: 256 << 10, size: "256 KB")
    + sparseWorkloads(rows: rows, model: model, size: "model 128 KB")
  for workload in workloads {
    Benchmark("\(workload.kernel) \(workload.size) Swift") { benchmark in
      for _ in benchmark.scaledIterations { workload.swift(1) }
    }
    Benchmark("\(workload.kernel) \(workload.size) C") { benchmark in
      for _ in benchmark.scaledIterations { workload.c(1) }
    }
  }
}
