import Foundation
import Sounder
import Testing

/// The README's library examples, run as written (on generated data, with
/// paths in a temporary folder), so the README cannot drift from the API.
@Suite("README examples")
struct ReadmeExampleTests {
  @Test("training from Swift, as the README shows it")
  func training() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sounder-readme-\(UUID())")
      .path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let (trainPath, modelPath) = (folder + "/train.sds", folder + "/m.model")
    let spec = SyntheticSpec(kind: .denseClassification, rows: 5_000, features: 16, seed: 3)
    _ = try SyntheticData.write(spec, into: try DatasetWriter(path: trainPath, layout: .dense))

    // --- README: "Training from Swift" ---
    let data = try Dataset(path: trainPath)  // memory-mapped, O(1) to open
    var setup = TrainingConfiguration()
    setup.loss = .logistic
    setup.strategy = .auto  // or .hogwild, .perNode, .perCore, .sync
    setup.algorithm = .sgd
    setup.epochs = 10
    setup.holdoutFraction = 0.1
    let result = try Trainer(setup).fit(
      data.rows,
      progress: { report in
        print(report.epoch, report.trainingLoss, report.validationMetric ?? .nan)
      })
    print(result.strategy.reason)
    let metrics = try result.model.evaluate(data.rows)  // Metrics: accuracy, log-loss, AUC, ...
    let p = result.model.predictions(data.rows)  // or model.predict(dense: rowBuffer)
    try ModelFile.write(result.model, metadata: ModelMetadata(model: result.model), to: modelPath)
    // --- end ---

    #expect(result.history.count == 10)
    #expect(p.count == data.rows.count)
    #expect(try #require(metrics.accuracy) > 0.9)
    #expect(try ModelFile.read(modelPath).model == result.model)
  }

  @Test("watching workers and profiling, as the README shows it")
  func profiling() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sounder-readme-\(UUID())")
      .path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let path = folder + "/train.sds"
    let spec = SyntheticSpec(kind: .denseClassification, rows: 4_000, features: 8, seed: 3)
    _ = try SyntheticData.write(spec, into: try DatasetWriter(path: path, layout: .dense))
    let data = try Dataset(path: path)
    var setup = TrainingConfiguration()
    setup.epochs = 2

    // --- README: "Watching workers and profiling" ---
    let counters = WorkerCounters()  // read it from any thread during fit
    let run = try Trainer(setup).fit(data.rows, counters: counters)
    for worker in run.workers { print(worker.cpu, worker.counts.examples, worker.localPageShare ?? .nan) }

    var sweep = ProfileSweep(base: setup)  // threads × strategies × placement × replication
    sweep.threads = ProcessInfo.processInfo.activeProcessorCount >= 2 ? [1, 2] : [1]  // README: [1, 2]
    sweep.strategies = [.hogwild, .perCore]
    sweep.epochs = 3
    let report = try sweep.run(on: data.rows, machine: try Topology.current())
    let svg = ProfileChart.svg(report)  // also report.json, report.csv
    // --- end ---

    #expect(run.workers.map(\.counts.examples).reduce(0, +) == 2 * 4_000)
    #expect(report.runs.count == 2 * sweep.threads.count)
    #expect(svg.contains("<svg"))
  }
}
