import Dataset
import Foundation
import Learning
import Testing

@testable import Engine

/// What the C library (and any embedding host) builds on: model files as
/// bytes, a fit stopped on request, k-means distances, settings read from
/// JSON with every key named.
@Suite("Embedding", .serialized)
struct EmbeddingTests {
  @Test("a model file's bytes in memory read back as the file does, and damage is refused")
  func modelBytes() throws {
    let model = LinearModel(
      loss: .softmax, weights: (0..<12).map { Float($0) / 3 }, intercepts: [0.5, -1, 2], classes: [1, 4, 9],
      classNames: nil, scaler: nil)
    let metadata = ModelMetadata(model: model)
    let bytes = try ModelFile.encoded(model, metadata: metadata)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("embedding-\(UUID()).model").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try ModelFile.write(model, metadata: metadata, to: path)
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))
    let read = try bytes.withUnsafeBytes { try ModelFile.read(bytes: $0, source: "bytes") }
    #expect(read.model == model)
    #expect(try bytes.withUnsafeBytes { try ModelFile.kind(of: $0, source: "bytes") } == .linear)
    var damaged = bytes
    damaged[damaged.count - 1] ^= 0xFF
    #expect(throws: ModelFileError.corrupt(path: "bytes", reason: "the weights checksum does not match")) {
      try damaged.withUnsafeBytes { try ModelFile.read(bytes: $0, source: "bytes") }
    }
    let centres = ClusterModel(centres: [1, 2, 3, 4, 5, 6], features: 2)
    let clusterBytes = try ModelFile.encoded(centres, metadata: ClusterMetadata(model: centres))
    #expect(
      try clusterBytes.withUnsafeBytes { try ModelFile.readClusters(bytes: $0, source: "b") }.model == centres
    )
    #expect(throws: ModelFileError.self) {
      try clusterBytes.withUnsafeBytes { try ModelFile.read(bytes: $0, source: "b") }
    }
  }

  @Test("a stop requested during an epoch ends the fit after it, with that epoch's model")
  func stopRequest() throws {
    let data = TestRows(rows: 2_000, columns: 8, classification: true)
    var trainer = Trainer(configuration(.logistic, .sync, .gd, epochs: 50, threads: 2))
    let stop = StopRequest()
    trainer.stopRequest = stop
    var epochs: [Int] = []
    let result = try trainer.fit(
      data.block,
      progress: { report in
        epochs.append(report.epoch)
        if report.epoch == 4 { stop.request() }
      })
    #expect(epochs == [1, 2, 3, 4])
    #expect(result.stopReason == .requested(epoch: 4))
    // The same four epochs run without a stop give the same model (gd is reproducible).
    var four = configuration(.logistic, .sync, .gd, epochs: 4, threads: 2)
    four.stopping.epochs = 4
    #expect(try Trainer(four).fit(data.block).model == result.model)

    let blobs = MatrixRows.blobs(count: 600, columns: 3, clusters: 4, seed: 2)
    var kMeans = KMeans(KMeansConfiguration(clusters: 4))
    let clusterStop = StopRequest()
    kMeans.stopRequest = clusterStop
    kMeans.configuration.tolerance = 0
    kMeans.configuration.runs = 3
    var iterations = 0
    let clusters = try kMeans.fit(blobs.rows) { _ in
      iterations += 1
      clusterStop.request()
    }
    #expect(iterations == 1)
    #expect(clusters.runInertias.count == 1)
    if case .stable = clusters.stopReason {
    } else {
      #expect(clusters.stopReason == KMeansStop.requested(iteration: 1))
    }
  }

  @Test("distances to every centre, dense and sparse, scaled or not, match brute force in Double")
  func distances() throws {
    for sparse in [false, true] {
      let blobs = MatrixRows.blobs(count: 300, columns: 5, clusters: 3, seed: 9, sparse: sparse)
      let centres: [Float] = (0..<15).map { Float($0 % 7) - 3 }
      for scaler in [nil, FeatureScaler(means: [0, 0, 0, 0, 0], scales: [1, 2, 0.5, 4, 1])] {
        let model = ClusterModel(centres: centres, features: 5, scaler: scaler)
        let found = try model.distances(blobs.rows)
        for (r, row) in blobs.matrix.enumerated() {
          let x = row.enumerated().map { j, v in Double(v) / Double(scaler?.scales[j] ?? 1) }
          for c in 0..<3 {
            let exact = (0..<5).reduce(0.0) { $0 + pow(x[$1] - Double(centres[c * 5 + $1]), 2) }.squareRoot()
            #expect(abs(Double(found[r * 3 + c]) - exact) <= 1e-4 * max(1, exact))
          }
        }
      }
    }
  }

  @Test("settings from JSON: every key has a name, and a partial k-means object keeps its defaults")
  func settings() throws {
    var full = TrainingConfiguration()
    full.optimizer.learningRate = 0.1
    full.optimizer.schedule = .constant
    full.execution.threads = 2
    full.execution.partitions = 2
    full.execution.syncEvery = 10
    full.execution.simulatedNodes = 2
    full.problem.multiclass = .ovr
    full.problem.classWeight = .balanced
    full.problem.classes = [0, 1]
    full.problem.standardize = true
    full.stopping.tolerance = 1e-3
    full.stopping.targetLoss = 0.1
    full.stopping.holdoutFraction = 0.1
    full.problem.l2 = 1e-3
    full.stopping.epochs = 5
    let keys = try JSONSerialization.jsonObject(with: JSONEncoder().encode(full)) as! [String: Any]
    #expect(Set(keys.keys) == Set(TrainingConfiguration.settingNames))
    let partial = try JSONDecoder().decode(
      KMeansConfiguration.self, from: Data(#"{"clusters": 5, "runs": 2}"#.utf8))
    var expected = KMeansConfiguration(clusters: 5)
    expected.runs = 2
    #expect(partial == expected)
    let clusterKeys = try JSONSerialization.jsonObject(with: JSONEncoder().encode(expected)) as! [String: Any]
    #expect(Set(clusterKeys.keys).isSubset(of: Set(KMeansConfiguration.settingNames)))
  }

  @Test("a fit started from a model carries on: gd for 3 epochs, then 2 more from it, is gd for 5")
  func warmStart() throws {
    for standardize in [false, true] {
      let data = TestRows(rows: 3_000, columns: 6, classification: true)
      var setup = configuration(.logistic, .sync, .gd, epochs: 3, threads: 2)
      setup.problem.standardize = standardize
      let three = try Trainer(setup).fit(data.block)
      setup.stopping.epochs = 2
      let more = try Trainer(setup).fit(data.block, startingFrom: three.model)
      setup.stopping.epochs = 5
      let five = try Trainer(setup).fit(data.block)
      // Standardised, the model passes through raw units and back: equal to float rounding.
      for (a, b) in zip(
        more.model.weights + more.model.intercepts, five.model.weights + five.model.intercepts)
      {
        #expect(abs(a - b) <= (standardize ? 1e-5 : 0) * max(1, abs(b)))
      }
    }
    let regression = TestRows(rows: 100, columns: 3, classification: false)
    var squared = configuration(.squared, .sync, .gd, epochs: 1, threads: 1)
    let other = try Trainer(squared).fit(regression.block).model
    squared.problem.loss = .logistic
    #expect(throws: TrainingError.self) {
      try Trainer(squared).fit(
        TestRows(rows: 100, columns: 3, classification: true).block, startingFrom: other)
    }
  }

  @Test("classes named beforehand: rows may lack some, and none may hold another")
  func pinnedClasses() throws {
    let data = TestRows(rows: 500, columns: 4, classification: true)  // labels 0 and 1
    var setup = configuration(.logistic, .sync, .gd, epochs: 2, threads: 1)
    setup.problem.classes = [7, 0, 1]
    let result = try Trainer(setup).fit(data.block)
    #expect(result.model.outputs == 3)
    #expect(result.model.classes == [0, 1, 7])
    setup.problem.classes = [0, 7]
    #expect(throws: TrainingError.self) { try Trainer(setup).fit(data.block) }
    setup.problem.classes = [1, 1]
    #expect(
      throws: TrainingError.invalidConfiguration(
        "the classes must be at least 2 distinct finite labels (got 2)")
    ) { try Trainer(setup).fit(data.block) }
  }

  @Test("with the thread count left open, a fit on fewer rows than cores runs one worker a row")
  func fewRows() throws {
    let data = TestRows(rows: 1, columns: 3, classification: false)
    var setup = TrainingConfiguration()
    setup.problem.loss = .squared
    setup.stopping.epochs = 2
    let result = try Trainer(setup).fit(data.block)
    #expect(result.placement.count == 1)
  }
}
