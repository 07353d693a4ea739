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
    let metrics = result.model.evaluate(data.rows)  // Metrics: accuracy, log-loss, AUC, ...
    let p = result.model.predictions(data.rows)  // or model.predict(dense: rowBuffer)
    try ModelFile.write(result.model, metadata: ModelMetadata(model: result.model), to: modelPath)
    // --- end ---

    #expect(result.history.count == 10)
    #expect(p.count == data.rows.count)
    #expect(try #require(metrics.accuracy) > 0.9)
    #expect(try ModelFile.read(modelPath).model == result.model)
  }
}
