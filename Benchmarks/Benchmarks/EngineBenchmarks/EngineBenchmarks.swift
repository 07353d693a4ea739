import Benchmark
import Foundation
import Sounder

/// One training epoch per strategy, and LIBSVM parsing, on generated data,
/// under ordo-one/benchmark: `swift package benchmark --target EngineBenchmarks`
/// in Benchmarks/. `tools/bench-regression` compares a run with the baseline
/// committed in `.benchmarkBaselines/`.
let benchmarks: @Sendable () -> Void = {
  // This shared VM's timings move by ±30% from run to run: a regression is a median 40% slower.
  Benchmark.defaultConfiguration = .init(
    metrics: [.wallClock], timeUnits: .milliseconds, maxDuration: .seconds(3), maxIterations: 20,
    thresholds: [.wallClock: .init(relative: [.p50: 40.0])])
  let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sounder-engine-bench").path
  try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)

  // 200,000 × 64 dense (51 MB of features): larger than this machine's caches.
  let densePath = folder + "/dense.sds"
  let dense = SyntheticSpec(kind: .denseClassification, rows: 200_000, features: 64, seed: 1)
  if (try? Dataset(path: densePath)) == nil {
    _ = try! SyntheticData.write(dense, into: try! DatasetWriter(path: densePath, layout: .dense))
  }
  let data = try! Dataset(path: densePath)
  let runs: [(String, UpdateStrategy, Algorithm)] = [
    ("hogwild sgd", .hogwild, .sgd), ("per-node sgd", .perNode, .sgd), ("per-core sgd", .perCore, .sgd),
    ("sync minibatch", .sync, .minibatch), ("sync gd", .sync, .gd),
  ]
  for (name, strategy, algorithm) in runs {
    var setup = TrainingConfiguration()
    setup.strategy = strategy
    setup.algorithm = algorithm
    setup.epochs = 1
    setup.learningRate = algorithm == .gd ? 1 : 0.05
    setup.schedule = .constant
    Benchmark("epoch, dense 200k × 64, \(name)") { benchmark in
      for _ in benchmark.scaledIterations {
        blackHole(try Trainer(setup).fit(data.rows).model.bias)
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
  Benchmark("parse LIBSVM to .sds, 20k rows × 80 values") { benchmark in
    for _ in benchmark.scaledIterations {
      blackHole(try Importer.convert(input: textPath, output: output).rows)
    }
  }
}
