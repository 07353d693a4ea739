import Dataset
import Foundation
import Learning
import SeededRandom
import Testing

@testable import Engine

/// A row block with other labels (and optionally weights) over the same features.
final class Relabeled: @unchecked Sendable {
  let block: CheckedRows
  private let labels: UnsafeMutableBufferPointer<Float>
  private let weights: UnsafeMutableBufferPointer<Float>?

  init(_ rows: CheckedRows, labels values: [Float], weights rowWeights: [Float]? = nil) {
    labels = .allocate(capacity: values.count)
    _ = labels.initialize(from: values)
    weights = rowWeights.map { w in
      let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: w.count)
      _ = buffer.initialize(from: w)
      return buffer
    }
    block = try! rows.replacing(
      labels: UnsafeBufferPointer(labels), weights: weights.map(UnsafeBufferPointer.init), source: "test rows"
    )
  }

  deinit {
    labels.deallocate()
    weights?.deallocate()
  }
}

@Suite("Multiclass", .serialized)
struct MulticlassTests {
  static let three = OracleRows(rows: 600, columns: 6, classes: 3, seed: 5)

  static func setup(_ loss: Loss = .logistic, epochs: Int = 30) -> TrainingConfiguration {
    var setup = TrainingConfiguration()
    setup.problem.loss = loss
    setup.execution.threads = 2
    setup.stopping.epochs = epochs
    setup.optimizer.learningRate = 0.5
    setup.optimizer.schedule = .adagrad
    return setup
  }

  @Test("class labels that are any whole numbers are kept, and predictions come back in them")
  func classLabels() throws {
    let names: [Float] = [3, 7, 10]
    let rows = Relabeled(Self.three.block, labels: Self.three.labels.map { names[Int($0)] })
    let result = try Trainer(Self.setup()).fit(rows.block)
    #expect(result.model.outputs == 3 && result.model.loss == .softmax)
    #expect(result.model.classes == names)
    let predicted = result.model.predictions(rows.block)
    #expect(Set(predicted).isSubset(of: Set(names)), "predictions \(Set(predicted)) outside the classes")
    let metrics = try result.model.evaluate(rows.block)
    // The same model scored by hand: the class of the largest margin.
    let margins = result.model.margins(rows.block)
    let correct = (0..<rows.block.count).count { row in
      let m = margins[row * 3..<row * 3 + 3]
      return names[m.firstIndex(of: m.max()!)! - row * 3] == rows.block.label(row)
    }
    #expect(abs(metrics.accuracy! - Double(correct) / Double(rows.block.count)) < 1e-12)
    #expect(metrics.confusion!.joined().reduce(0, +) == rows.block.count)
    #expect(metrics.accuracy! > 0.6, "accuracy \(metrics.accuracy!) on data drawn from a softmax model")
  }

  @Test("log-loss and macro-F1 agree with a hand computation on the model's probabilities")
  func metrics() throws {
    let result = try Trainer(Self.setup()).fit(Self.three.block)
    let model = result.model
    let probabilities = model.probabilities(Self.three.block)
    var logLoss = 0.0
    var truePositives = [Double](repeating: 0, count: 3)
    var predictedCounts = [Double](repeating: 0, count: 3)
    var actualCounts = [Double](repeating: 0, count: 3)
    for row in 0..<Self.three.block.count {
      let p = probabilities[row * 3..<row * 3 + 3].map(Double.init)
      #expect(abs(p.reduce(0, +) - 1) < 1e-5)
      let truth = Int(Self.three.labels[row])
      // Softmax probabilities from the margins, in Double.
      let m = model.margins(Self.three.block, rows: [row]).map(Double.init)
      let top = m.max()!
      let expected = m.map { exp($0 - top) / m.reduce(0) { $0 + exp($1 - top) } }
      for k in 0..<3 { #expect(abs(p[k] - expected[k]) < 1e-5) }
      logLoss -= log(expected[truth])
      let predicted = m.firstIndex(of: top)!
      predictedCounts[predicted] += 1
      actualCounts[truth] += 1
      if predicted == truth { truePositives[truth] += 1 }
    }
    var f1 = 0.0
    for c in 0..<3 { f1 += 2 * truePositives[c] / (predictedCounts[c] + actualCounts[c]) / 3 }
    let metrics = try model.evaluate(Self.three.block)
    #expect(abs(metrics.logLoss! - logLoss / Double(Self.three.block.count)) < 1e-4)
    #expect(abs(metrics.macroF1! - f1) < 1e-12)
  }

  @Test(
    "multiclass metrics over many chunks equal a Double reference; an unknown label is named by its first row"
  )
  func metricsOverChunks() throws {
    // 200,000 rows (three chunks of the evaluation), classes that are not 0..<K (a binary search).
    let data = OracleRows(rows: 200_000, columns: 5, classes: 4, seed: 21)
    let names: [Float] = [-3, 2, 7, 11]
    let rows = Relabeled(data.block, labels: data.labels.map { names[Int($0)] })
    var generator = SplitMix64(seed: 4)
    let weights = (0..<20).map { _ in Float(Double(generator.next() >> 11) / 9_007_199_254_740_992 * 2 - 1) }
    let model = LinearModel(
      loss: .softmax, weights: weights, intercepts: [0.1, -0.2, 0.3, 0], classes: names)
    var confusion = [[Int]](repeating: [0, 0, 0, 0], count: 4)
    var logLoss = 0.0
    for row in 0..<data.block.count {
      let x = data.block.block.denseRow(row).map(Double.init)
      let m = (0..<4).map { k in
        (0..<5).reduce(Double(model.intercepts[k])) { $0 + x[$1] * Double(weights[$1 * 4 + k]) }
      }
      let top = m.max()!
      let truth = Int(data.labels[row])
      let sum = m.reduce(0) { $0 + exp($1 - top) }
      logLoss -= log(max(exp(m[truth] - top) / sum, 1e-15))
      confusion[truth][m.firstIndex(of: top)!] += 1
    }
    let metrics = try model.evaluate(rows.block)
    #expect(metrics.confusion == confusion)
    #expect(abs(metrics.logLoss! - logLoss / 200_000) < 1e-5 * (logLoss / 200_000))
    var other = data.labels.map { names[Int($0)] }
    (other[150_000], other[70_000]) = (5, 6)
    let unknown = #expect(throws: LinearModel.UnknownLabel.self) {
      try model.evaluate(Relabeled(data.block, labels: other).block)
    }
    #expect(unknown?.row == 70_001 && unknown?.label == 6)
  }

  @Test("regression metrics over many chunks, and of a subset, equal a Double reference")
  func regressionOverChunks() throws {
    let data = OracleRows(rows: 200_000, columns: 5, classes: nil, seed: 31)
    let model = LinearModel(loss: .squared, weights: [0.5, -1, 0.25, 2, 0], intercepts: [0.3])
    let subset = Array(stride(from: 7, to: 200_000, by: 3))
    for chosen in [Array(0..<200_000), subset] {
      var (squared, absolute) = (0.0, 0.0)
      var labels: [Double] = []
      for row in chosen {
        let x = data.block.block.denseRow(row)
        let p = (0..<5).reduce(0.3) { $0 + Double(x[$1]) * Double(model.weights[$1]) }
        let y = Double(data.block.label(row))
        (squared, absolute) = (squared + (p - y) * (p - y), absolute + abs(p - y))
        labels.append(y)
      }
      let mean = labels.reduce(0, +) / Double(labels.count)
      let total = labels.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
      let metrics = try model.evaluate(data.block, rows: chosen.count == 200_000 ? nil : chosen)
      #expect(metrics.rows == chosen.count)
      #expect(abs(metrics.mse! - squared / Double(chosen.count)) <= 1e-5 * squared / Double(chosen.count))
      #expect(abs(metrics.mae! - absolute / Double(chosen.count)) <= 1e-5 * absolute / Double(chosen.count))
      #expect(abs(metrics.r2! - (1 - squared / total)) <= 1e-5)
    }
  }

  @Test("a class index finds labels among consecutive and other classes")
  func classIndex() {
    let consecutive = ClassIndex([0, 1, 2, 3])
    #expect([0, 3, -0.0, 2].map { consecutive($0) } == [0, 3, 0, 2])
    #expect([4, -1, 1.5].map { consecutive($0) } == [nil, nil, nil])
    let other = ClassIndex([-3, 2, 7, 11])
    #expect([-3, 2, 7, 11].map { other($0) } == [0, 1, 2, 3])
    #expect([-4, 0, 8, 12].map { other($0) } == [nil, nil, nil, nil])
  }

  @Test("one-vs-rest trains one binary model per class; hinge has no probabilities")
  func oneVsRest() throws {
    for loss in [Loss.logistic, .hinge, .modifiedHuber] {
      var setup = Self.setup(loss)
      setup.problem.multiclass = .ovr
      let model = try Trainer(setup).fit(Self.three.block).model
      #expect(model.loss == loss && model.outputs == 3)
      #expect(model.hasProbabilities == (loss != .hinge))
      let accuracy = try #require(try model.evaluate(Self.three.block).accuracy)
      #expect(accuracy > 0.6, "\(loss.rawValue) one-vs-rest accuracy \(accuracy)")
    }
  }

  @Test("softmax on two classes trains two outputs")
  func softmaxOnTwoClasses() throws {
    let binary = OracleRows(rows: 300, columns: 4, classes: nil, seed: 3)
    let model = try Trainer(Self.setup(.softmax)).fit(binary.block).model
    #expect(model.outputs == 2 && model.classes == [-1, 1])
  }

  @Test("balanced class weights give every class the same total weight")
  func balanced() throws {
    // Keep every class-2 row but only one row in four of the others: class 2 dominates.
    let kept = (0..<Self.three.block.count).filter { Self.three.labels[$0] == 2 || $0 % 4 == 0 }
    let counts = (0..<3).map { c in kept.count { Self.three.labels[$0] == Double(c) } }
    var setup = Self.setup()
    setup.problem.classWeight = .balanced
    setup.stopping.epochs = 1
    let data = try TrainingSet(rows: Self.three.block, test: nil, configuration: setup)
    var totals = [Double](repeating: 0, count: 3)
    for row in 0..<Self.three.block.count {
      totals[Int(data.rows.label(row))] += Double(data.rows.weight(row))
    }
    let all = (0..<3).map { c in Self.three.labels.count { $0 == Double(c) } }
    for c in 0..<3 {
      #expect(abs(totals[c] - Double(Self.three.block.count) / 3) < 1e-3, "class \(c) weighs \(totals[c])")
    }
    #expect(all.reduce(0, +) == Self.three.block.count && counts.reduce(0, +) == kept.count)
  }

  @Test("a sync softmax run resumed from a checkpoint is bitwise the same as one that never stopped")
  func resume() throws {
    var setup = Self.setup()
    setup.execution.strategy = .sync
    setup.optimizer.algorithm = .minibatch
    setup.optimizer.batchSize = 32
    setup.stopping.epochs = 4
    let whole = try Trainer(setup).fit(Self.three.block)
    var saved: [Checkpoint] = []
    _ = try Trainer(setup).fit(Self.three.block, checkpointEvery: 2, checkpoint: { saved.append($0) })
    let resumed = try Trainer(setup).fit(Self.three.block, resuming: try #require(saved.first))
    #expect(resumed.model == whole.model)
    #expect(saved.first?.intercepts.count == 3 && saved.first?.squaredSums?.count == 7 * 3)
  }

  @Test(
    "labels that cannot be classes are refused with the label named",
    arguments: [
      ([0, 1, 2.5] as [Float], "multiclass classification needs whole-number class labels, found 2.5"),
      ([4, 4, 4] as [Float], "a classifier needs at least two classes, but every training label is 4"),
    ])
  func badLabels(values: [Float], message: String) {
    let labels = (0..<Self.three.block.count).map { values[$0 % values.count] }
    let rows = Relabeled(Self.three.block, labels: labels)
    let error = #expect(throws: TrainingError.self) { try Trainer(Self.setup()).fit(rows.block) }
    #expect(error?.description.hasPrefix(message) == true, "\(error?.description ?? "no error")")
  }

  @Test("two classes of any labels become ±1 row by row, and a third in the test split is named by its row")
  func binaryLabels() throws {
    // Runs of one label (read sixteen at a time) and alternating ones (read one by one).
    let labels: [Float] = (0..<Self.three.block.count).map { row in
      row < 200 ? 3 : row < 400 ? (row % 2 == 0 ? 7 : 3) : (row / 37 % 2 == 0 ? 7 : 3)
    }
    let rows = Relabeled(Self.three.block, labels: labels)
    var setup = Self.setup()
    setup.stopping.epochs = 1
    let data = try TrainingSet(rows: rows.block, test: nil, configuration: setup)
    #expect(data.classes == [3, 7])
    for row in 0..<labels.count {
      #expect(data.rows.label(row) == (labels[row] == 7 ? 1 : -1), "row \(row)")
    }
    for bad in [0, 37, 205, 599] {
      var other = labels
      other[bad] = 5
      let test = Relabeled(Self.three.block, labels: other)
      let error = #expect(throws: TrainingError.self) {
        try TrainingSet(rows: rows.block, test: test.block, configuration: setup)
      }
      #expect(
        error?.description
          == "row \(bad + 1) of the test data has the label 5, which the training labels (3 and 7) do not have"
      )
    }
  }

  @Test("labels over many scan blocks: a class first seen late is a class, ±1 as row by row")
  func labelsOverBlocks() throws {
    // 10,000 rows: blocks of two classes (scanned whole) and blocks with other labels.
    let rows = OracleRows(rows: 10_000, columns: 3, classes: 2, seed: 9)
    var labels = (0..<10_000).map { Float(($0 * 7919) % 3 == 0 ? 1 : 0) }
    let setup = Self.setup(epochs: 1)
    let training = Relabeled(rows.block, labels: labels)
    let binary = try TrainingSet(rows: training.block, test: nil, configuration: setup)
    #expect(binary.classes == [0, 1])
    for row in 0..<labels.count {
      #expect(binary.rows.label(row) == (labels[row] == 1 ? 1 : -1), "row \(row)")
    }
    // A test split in the other convention (−1 for 0, and −0) converts alike; a 2 is named by its row.
    var test = labels.map { $0 == 0 ? -1 : $0 }
    test[9_001] = -0.0
    let converted = Relabeled(rows.block, labels: test)
    #expect(
      try TrainingSet(rows: training.block, test: converted.block, configuration: setup).classes == [0, 1])
    test[8_500] = 2
    let unknown = Relabeled(rows.block, labels: test)
    let error = #expect(throws: TrainingError.self) {
      try TrainingSet(rows: training.block, test: unknown.block, configuration: setup)
    }
    #expect(
      error?.description
        == "row 8501 of the test data has the label 2, which the training labels (0 and 1) do not have")
    // A third class first seen in the last block makes the problem multiclass.
    labels[9_999] = 2
    let three = Relabeled(rows.block, labels: labels)
    #expect(try TrainingSet(rows: three.block, test: nil, configuration: setup).classes == [0, 1, 2])
  }

  @Test("a class only the test data has, and softmax with one-vs-rest, are refused")
  func testOnlyClass() throws {
    let test = Relabeled(Self.three.block, labels: Self.three.labels.map { $0 == 2 ? 5 : Float($0) })
    let error = #expect(throws: TrainingError.self) {
      try Trainer(Self.setup()).fit(Self.three.block, validation: test.block)
    }
    let first = Self.three.labels.firstIndex(of: 2)! + 1
    #expect(
      error?.description
        == "row \(first) of the test data has the class 5, which the training labels do not have")
    var setup = Self.setup(.softmax)
    setup.problem.multiclass = .ovr
    let conflict = #expect(throws: TrainingError.self) { try Trainer(setup).fit(Self.three.block) }
    #expect(conflict?.description == "--loss softmax is itself multiclass; leave out --multiclass ovr")
    let model = try Trainer(Self.setup()).fit(Self.three.block).model
    let unknown = #expect(throws: LinearModel.UnknownLabel.self) { try model.evaluate(test.block) }
    #expect(
      unknown?.description
        == "row \(first) has the label 5, which is not one of the model's classes (0, 1, 2)")
  }

  @Test("a multiclass model survives a model file, and a version 1 file still reads")
  func modelFile() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sounder-multiclass-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    var model = try Trainer(Self.setup()).fit(Self.three.block).model
    model.classNames = ["setosa", "versicolor", "virginica"]
    let path = folder.appendingPathComponent("m.model").path
    try ModelFile.write(model, metadata: ModelMetadata(model: model), to: path)
    #expect(try ModelFile.read(path).model == model)

    // A version 1 file as the previous release wrote it: one output, `bias` in the metadata.
    let json = Array(#"{"bias":0.25,"features":2,"library":"0.1.0","loss":"logistic"}"#.utf8)
    let weights: [Float] = [1.5, -2]
    var header = [UInt8](repeating: 0, count: 64)
    func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
      withUnsafeBytes(of: value.littleEndian) {
        header.replaceSubrange(offset..<offset + MemoryLayout<T>.size, with: $0)
      }
    }
    header.replaceSubrange(0..<8, with: Array("SNDRMODL".utf8))
    put(UInt32(1), at: 8)
    put(UInt32(json.count), at: 12)
    put(UInt64(2), at: 16)
    put(UInt64(128), at: 24)
    put(json.withUnsafeBytes { CRC32C.checksum($0) }, at: 32)
    put(weights.withUnsafeBytes { CRC32C.checksum($0) }, at: 36)
    var bytes = header + json
    bytes += [UInt8](repeating: 0, count: 128 - bytes.count)
    bytes += weights.withUnsafeBytes { Array($0) }
    let old = folder.appendingPathComponent("v1.model").path
    try Data(bytes).write(to: URL(fileURLWithPath: old))
    let read = try ModelFile.read(old).model
    #expect(read == LinearModel(loss: .logistic, weights: weights, bias: 0.25))
  }
}
