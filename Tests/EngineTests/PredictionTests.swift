import Dataset
import Foundation
import Learning
import SeededRandom
import Testing

@testable import Engine

/// Prediction over rows whose values are checked through the margins they
/// make (`LinearModel.predict(_:_:into:)`), against a Double reference and
/// the full check's errors.
@Suite struct PredictionTests {
  /// A model of `outputs` outputs over `features` features, random weights.
  func model(features: Int, outputs: Int, loss: Loss, classes: [Float]?, seed: UInt64) -> LinearModel {
    var rng = SplitMix64(seed: seed)
    func uniform() -> Float { Float(rng.next() >> 40) / Float(1 << 24) * 2 - 1 }
    return LinearModel(
      loss: loss, weights: (0..<features * outputs).map { _ in uniform() },
      intercepts: (0..<outputs).map { _ in uniform() }, classes: classes)
  }

  /// The margins in Double: the reference twin of the kernels.
  func referenceMargins(_ model: LinearModel, _ row: [Float]) -> [Double] {
    (0..<model.outputs).map { k in
      var sum = Double(model.intercepts[k])
      for j in row.indices { sum += Double(model.weights[j * model.outputs + k]) * Double(row[j]) }
      return sum
    }
  }

  func matrix(rows: Int, columns: Int, seed: UInt64) -> [[Float]] {
    var rng = SplitMix64(seed: seed)
    return (0..<rows).map { _ in (0..<columns).map { _ in Float(rng.next() >> 40) / Float(1 << 24) * 4 - 2 } }
  }

  /// `matrix` as readable rows (dense, or CSR with the zeros left out).
  func withRows<T>(_ matrix: [[Float]], sparse: Bool, _ body: (ReadableRows) throws -> T) throws -> T {
    let columns = matrix[0].count
    let values = sparse ? matrix.joined().filter { $0 != 0 } : Array(matrix.joined())
    var offsets: [Int64] = [0]
    var indices: [Int32] = []
    for row in matrix {
      for (j, v) in row.enumerated() where v != 0 { indices.append(Int32(j)) }
      offsets.append(Int64(indices.count))
    }
    return try values.withUnsafeBufferPointer { v in
      try offsets.withUnsafeBufferPointer { o in
        try indices.withUnsafeBufferPointer { i in
          let rows =
            sparse
            ? try ReadableRows.borrowing(
              csr: o.baseAddress!, indices: .int32(i.baseAddress!), values: .float32(v.baseAddress!),
              rows: matrix.count, columns: columns, labels: nil, weights: nil, source: "rows")
            : try ReadableRows.borrowing(
              dense: .float32(v.baseAddress!), rows: matrix.count, columns: columns, labels: nil,
              weights: nil,
              source: "rows")
          return try body(rows)
        }
      }
    }
  }

  func predicted(_ model: LinearModel, _ rows: ReadableRows, _ output: PredictionOutput) throws -> [Float] {
    var out = [Float](repeating: .nan, count: rows.block.count * model.width(of: output))
    try out.withUnsafeMutableBufferPointer { try model.predict(rows, output, into: $0) }
    return out
  }

  @Test(arguments: [false, true], [1, 3])
  func outputsMatchTheDoubleReference(sparse: Bool, outputs: Int) throws {
    // 40,000 rows: more than one chunk of 16,384, so the rows are shared out.
    let data = matrix(rows: 40_000, columns: 12, seed: 5)
    let model = model(
      features: 12, outputs: outputs, loss: outputs == 1 ? .logistic : .softmax,
      classes: outputs == 1 ? [3, 7] : [1, 2, 5], seed: 9)
    try withRows(data, sparse: sparse) { rows in
      let margins = try predicted(model, rows, .margins)
      let labels = try predicted(model, rows, .labels)
      let probabilities = try predicted(model, rows, .probabilities)
      for (r, row) in data.enumerated() {
        let m = referenceMargins(model, row)
        for k in 0..<outputs {
          #expect(abs(Double(margins[r * outputs + k]) - m[k]) <= 1e-5 * (abs(m[k]) + 1))
        }
        let p: [Double]
        let label: Float
        if outputs == 1 {
          let positive = 1 / (1 + exp(-m[0]))
          p = [1 - positive, positive]
          label = m[0] >= 0 ? 7 : 3
        } else {
          let top = m.max()!
          let e = m.map { exp($0 - top) }
          p = e.map { $0 / e.reduce(0, +) }
          label = [1, 2, 5][m.firstIndex(of: top)!]
        }
        // Labels where the margins are not within rounding of a tie.
        let sorted = m.count == 1 ? [abs(m[0]), .infinity] : m.sorted(by: >)
        if m.count == 1 ? sorted[0] > 1e-4 : sorted[0] - sorted[1] > 1e-4 { #expect(labels[r] == label) }
        for (k, expected) in p.enumerated() {
          #expect(abs(Double(probabilities[r * p.count + k]) - expected) <= 1e-5)
        }
      }
    }
  }

  @Test(arguments: [false, true], [Float.nan, .infinity, -.infinity])
  func theFirstRowWithANonFiniteValueIsRefused(sparse: Bool, bad: Float) throws {
    var data = matrix(rows: 40_000, columns: 8, seed: 2)
    data[20_000][3] = bad
    data[30_000][0] = .nan
    data[25_000][6] = 1e30  // finite; its margins may be large, not an error
    // A value under a zero weight: 0 × ∞ is NaN, so it is found too.
    var model = model(features: 8, outputs: 3, loss: .softmax, classes: nil, seed: 4)
    for k in 0..<3 { model.weights[5 * 3 + k] = 0 }
    data[10_000][5] = bad
    let expected = DatasetError.invalidRow(
      source: "rows", row: 10_000,
      problem:
        "feature value \(bad.isNaN ? "NaN" : bad > 0 ? "infinity" : "-infinity") is not a finite number")
    try withRows(data, sparse: sparse) { rows in
      for output in [PredictionOutput.margins, .labels, .probabilities] {
        #expect(throws: expected) { try predicted(model, rows, output) }
      }
      #expect(throws: expected) { try rows.checked() }
    }
  }

  @Test func finiteValuesWhoseMarginsOverflowArePredicted() throws {
    var data = matrix(rows: 10, columns: 4, seed: 3)
    let model = model(features: 4, outputs: 1, loss: .logistic, classes: [0, 1], seed: 6)
    data[4] = model.weights.map { $0 >= 0 ? Float(3e38) : -3e38 }
    try withRows(data, sparse: false) { rows in
      let margins = try predicted(model, rows, .margins)
      #expect(margins[4] == .infinity)
      #expect(try predicted(model, rows, .labels)[4] == 1)
    }
  }
}
