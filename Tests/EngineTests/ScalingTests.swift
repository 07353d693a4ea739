import Dataset
import Foundation
import SeededRandom
import Testing

@testable import Engine

@Suite("Defaults chosen from the data: scaling and learning rate")
struct ScalingTests {
  /// The decision for dense rows whose column `j` is `scale[j] · z + shift[j]`, z standard-normal-like.
  static func decision(scales: [Float], shifts: [Float], rows: Int = 1_000) throws -> (Bool, String) {
    let columns = scales.count
    var state: UInt64 = 9
    var values = [Float](repeating: 0, count: rows * columns)
    for i in 0..<rows {
      for j in 0..<columns {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let z = Float(Double(state >> 11) / 9_007_199_254_740_992 * 2 - 1) * 1.7
        values[i * columns + j] = scales[j] * z + shifts[j]
      }
    }
    let labels = [Float](repeating: 0, count: rows)
    return try values.withUnsafeBufferPointer { v in
      try labels.withUnsafeBufferPointer { l in
        let block = RowBlock(
          count: rows, columns: columns, layout: .dense, features: v.baseAddress!,
          offsets: UnsafePointer(bitPattern: 8)!, indices: UnsafePointer(bitPattern: 4)!,
          labels: l.baseAddress!,
          weights: nil)
        let need = try TrainingSet.scalingNeed(block)
        return (need.standardized, need.reason)
      }
    }
  }

  @Test("features on one scale are left alone; spreads 10× apart or means far from 0 are standardised")
  func rule() throws {
    #expect(try Self.decision(scales: [1, 2, 0.5, 1.5], shifts: [0, 0.3, -0.2, 1]).0 == false)
    let spread = try Self.decision(scales: [1, 30, 1, 1], shifts: [0, 0, 0, 0])
    #expect(spread.0 && spread.1.hasPrefix("feature spreads differ"), "\(spread.1)")
    let offset = try Self.decision(scales: [1, 1, 1, 1], shifts: [0, 0, 40, 0])
    #expect(offset.0 && offset.1.hasPrefix("a feature's mean lies"), "\(offset.1)")
    // A constant column is the intercept's business, not a scale.
    #expect(try Self.decision(scales: [1, 0, 1, 1], shifts: [0, 100, 0, 0]).0 == false)
  }

  @Test("sparse rows are not standardised unless asked; an explicit setting wins")
  func sparseAndExplicit() throws {
    #expect(try TrainingSet.scalingNeed(TrainerTests.sparse.block.block).standardized == false)
    var setup = TrainingConfiguration()
    setup.stopping.epochs = 1
    // A strength given: no cross-validation (65 fits) in a test of scaling.
    setup.problem.l2 = 0
    setup.problem.standardize = true
    let asked = try Trainer(setup).fit(TrainerTests.dense.block)
    #expect(asked.scaling.standardized && asked.scaling.reason == "as requested")
    setup.problem.standardize = nil
    let decided = try Trainer(setup).fit(TrainerTests.dense.block)
    #expect(!decided.scaling.standardized, "\(decided.scaling.reason)")
  }

  @Test(
    "sparse columns on scales 10⁻³ to 10³ are divided by their RMS; sparse rows on one scale are left alone")
  func sparseScales() throws {
    var rng = SplitMix64(seed: 21)
    let truth = (0..<50).map { _ in Float(rng.next(below: 3)) - 1 }
    var matrix: [[Float]] = []
    var labels: [Float] = []
    for _ in 0..<3_000 {
      var row = [Float](repeating: 0, count: 50)
      for _ in 0..<6 { row[Int(rng.next(below: 50))] = Float(rng.next(below: 1_000)) / 500 - 1 }
      matrix.append(row)
      labels.append(zip(row, truth).reduce(0) { $0 + $1.0 * $1.1 } > 0 ? 1 : 0)
    }
    let scaled = matrix.map { row in row.enumerated().map { j, x in x * powf(10, Float(j % 7 - 3)) } }
    let plain = MatrixRows(matrix, labels: labels, sparse: true)
    let bad = MatrixRows(scaled, labels: labels, sparse: true)
    #expect(try TrainingSet.scalingNeed(plain.rows.block).standardized == false)
    let need = try TrainingSet.scalingNeed(bad.rows.block)
    #expect(need.standardized && need.reason.hasPrefix("sparse feature scales differ"), "\(need.reason)")
    var setup = TrainingConfiguration()
    setup.execution.threads = 1
    setup.problem.l2 = 1e-4
    func accuracy(_ data: MatrixRows) throws -> Double {
      let model = try Trainer(setup).fit(data.rows).model
      let predicted = model.predictions(data.rows)
      return Double(zip(predicted, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }
    let onOneScale = try accuracy(plain)
    let badlyScaled = try accuracy(bad)
    #expect(onOneScale > 0.9 && badlyScaled >= onOneScale - 0.02, "\(badlyScaled) against \(onOneScale)")
  }

  @Test("the learning rate from the data is 1 / (c × (mean ‖x‖² + 1)); full-batch gd with it only goes down")
  func automaticRate() throws {
    let rows = TrainerTests.dense.block
    var setup = TrainingConfiguration()
    setup.optimizer.algorithm = .sgd
    setup.stopping.epochs = 1
    setup.problem.standardize = false
    setup.problem.l2 = 0
    let result = try Trainer(setup).fit(rows)
    // Every row is in the sample (fewer than 8,192); logistic: c = ¼; the intercept adds 1.
    let meanSquare =
      (0..<rows.count).map { r in rows.denseRow(r).reduce(0.0) { $0 + Double($1) * Double($1) } }
      .reduce(0, +) / Double(rows.count) + 1
    #expect(abs(Double(result.learningRate.value) - 4 / meanSquare) <= 1e-5 * 4 / meanSquare)
    #expect(result.learningRate.reason.hasPrefix("1 / (¼ × "), "\(result.learningRate.reason)")
    // η ≤ 1/L for the L-smooth mean logistic loss: gradient descent never goes up.
    setup.optimizer.algorithm = .gd
    setup.execution.strategy = .sync
    setup.optimizer.schedule = .constant
    setup.stopping.epochs = 60
    setup.stopping.exactLoss = true
    let losses = try Trainer(setup).fit(rows).history.map(\.trainingLoss)
    for (epoch, (before, after)) in zip(losses, losses.dropFirst()).enumerated() {
      #expect(after <= before + 1e-7, "epoch \(epoch + 2): \(after) after \(before)")
    }
    #expect(losses.last! < losses.first! * 0.9, "gd moved from \(losses.first!) to \(losses.last!)")
  }
}
