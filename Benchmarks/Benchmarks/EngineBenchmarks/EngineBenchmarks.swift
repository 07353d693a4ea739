import Benchmark
import Foundation
import Sounder

/// One training epoch per strategy, and LIBSVM parsing, on generated data,
/// under ordo-one/benchmark: `swift package benchmark --target EngineBenchmarks`
/// in Benchmarks/. `tools/bench-regression` compares a run with the baseline
/// thresholds committed in `Benchmarks/Thresholds/` (p90 wall-clock times).
let benchmarks: @Sendable () -> Void = {
  // This shared VM's timings move by ±30% from run to run: a regression is a p90 40% slower than
  // the committed threshold (the static check compares p90).
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock], timeUnits: .milliseconds, maxDuration: .seconds(3), maxIterations: 20,
    thresholds: [.wallClock: .init(relative: [.p90: 40.0])])
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sounder-engine-bench").path
  try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)

  // 200,000 × 64 dense (51 MB of features): larger than this machine's caches.
  let densePath = folder + "/dense.sds"
  let dense = SyntheticSpec(kind: .denseClassification, rows: 200_000, features: 64, seed: 1)
  if (try? Dataset(path: densePath)) == nil {
    _ = try! SyntheticData.write(dense, into: try! DatasetWriter(path: densePath, layout: .dense))
  }
  let data = try! Dataset(path: densePath)
  // Checked once, as `sounder train` does on opening: the epochs are what is timed.
  let rows = try! data.checkedRows(threads: ProcessInfo.processInfo.activeProcessorCount)
  // Names use only letters, digits and underscores: ordo-one writes threshold files with names
  // made shell-safe but reads them back by the original name, so any other character breaks
  // `thresholds check`.
  let runs: [(String, UpdateStrategy, Algorithm)] = [
    ("hogwild_sgd", .hogwild, .sgd), ("per_node_sgd", .perNode, .sgd), ("per_core_sgd", .perCore, .sgd),
    ("sync_minibatch", .sync, .minibatch), ("sync_gd", .sync, .gd),
  ]
  for (name, strategy, algorithm) in runs {
    var setup = TrainingConfiguration()
    setup.execution.strategy = strategy
    setup.optimizer.algorithm = algorithm
    setup.stopping.epochs = 1
    setup.optimizer.learningRate = algorithm == .gd ? 1 : 0.05
    setup.optimizer.schedule = .constant
    Benchmark("epoch_dense_200k_x_64_\(name)") { benchmark in
      for _ in benchmark.scaledIterations {
        blackHole(try Trainer(setup).fit(rows).model.bias)
      }
    }
  }

  // Parsing: 20,000 LIBSVM rows of 80 values (about 20 MB of text).
  let textPath = folder + "/sparse.svm"
  if !FileManager.default.fileExists(atPath: textPath) {
    let sparse = SyntheticSpec(kind: .sparseClassification, rows: 20_000, features: 50_000, seed: 1)
    _ = try! SyntheticData.write(sparse, into: try! TextWriter(path: textPath, format: .libsvm))
  }
  let output = folder + "/parsed.sds"
  Benchmark("parse_libsvm_20k_rows_x_80_values") { benchmark in
    for _ in benchmark.scaledIterations {
      blackHole(try Importer.convert(input: textPath, output: output).rows)
    }
  }
}
