import Learning
import LearningReference
import Testing

/// A small sparse logistic-regression problem: rows of 2–6 non-zeros over a
/// few features, so some features go unseen for many steps.
private struct SparseProblem {
  let features = 24
  var rows: [(indices: [Int32], values: [Float], label: Float)] = []

  init(rows count: Int, seed: UInt64) {
    var state = seed
    func next() -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return state >> 33
    }
    for _ in 0..<count {
      let nnz = 2 + Int(next() % 5)
      let indices = (0..<nnz).map { _ in Int32(next() % UInt64(features)) }
      let values = (0..<nnz).map { _ in Float(Int(next() % 2001) - 1000) / 500 }
      rows.append((indices, values, next() % 2 == 0 ? 1 : -1))
    }
  }
}

/// The naive dense algorithm: every weight is shrunk and clipped at every step.
/// `u`, `q` are the cumulative-penalty totals in the units of `w`; the debt
/// of a weight held at zero shrinks with the L2 factor, as in the lazy form.
private func denseReference(
  _ problem: SparseProblem, _ regularization: Regularization, eta: Float, epochs: Int
) -> [Double] {
  var w = [Double](repeating: 0, count: problem.features)
  var q = [Double](repeating: 0, count: problem.features)
  var u = 0.0
  let loss = LogisticLoss()
  let shrink = 1 - Double(eta) * Double(regularization.l2)
  for _ in 0..<epochs {
    for row in problem.rows {
      var margin = 0.0
      for (k, v) in zip(row.indices, row.values) { margin += Double(v) * w[Int(k)] }
      let d = Double(loss.derivative(margin: Float(margin), label: row.label))
      // w ← (1 − η λ₂) w − η d x, for every weight
      for i in w.indices { w[i] *= shrink }
      for (k, v) in zip(row.indices, row.values) { w[Int(k)] -= Double(eta) * d * Double(v) }
      // cumulative L1 clip of every weight
      u = u * shrink + Double(eta) * Double(regularization.l1)
      for i in q.indices { q[i] *= shrink }
      for i in w.indices {
        let old = w[i]
        if old > 0 { w[i] = max(0, old - (u + q[i])) } else if old < 0 { w[i] = min(0, old + (u - q[i])) }
        q[i] += w[i] - old
      }
    }
  }
  return w
}

/// The same training through ``RegularizedWeights``: O(non-zeros) per step.
private func lazyTraining(
  _ problem: SparseProblem, _ regularization: Regularization, eta: Float, epochs: Int
) -> [Float] {
  let weights = RegularizedWeights(count: problem.features, regularization: regularization)
  let loss = LogisticLoss()
  for _ in 0..<epochs {
    for row in problem.rows {
      row.indices.withUnsafeBufferPointer { ks in
        row.values.withUnsafeBufferPointer { vs in
          let margin = weights.margin(indices: ks, values: vs)
          let d = loss.derivative(margin: margin, label: row.label)
          weights.step(indices: ks, values: vs, derivative: d, learningRate: eta)
        }
      }
    }
  }
  var result = [Float](repeating: .nan, count: problem.features)
  result.withUnsafeMutableBufferPointer { weights.copyWeights(into: $0) }
  return result
}

@Suite("Lazy regularisation equals the naive dense update")
struct RegularizationTests {
  fileprivate static let problem = SparseProblem(rows: 40, seed: 7)

  private func compare(_ regularization: Regularization, eta: Float, epochs: Int) -> [Float] {
    let dense = denseReference(Self.problem, regularization, eta: eta, epochs: epochs)
    let lazy = lazyTraining(Self.problem, regularization, eta: eta, epochs: epochs)
    for i in 0..<Self.problem.features {
      #expect(
        abs(Double(lazy[i]) - dense[i]) <= 2e-4 * max(1, abs(dense[i])),
        "\(regularization): weight \(i) lazy \(lazy[i]), dense \(dense[i])")
    }
    return lazy
  }

  @Test("L2 by scaling, through a fold of the scale back into the weights")
  func l2() {
    // (1 − 0.1 · 0.5)^(40·8) ≈ 7e-8: the scale drops below 1e-6 and is folded once.
    let lazy = compare(.l2(0.5), eta: 0.1, epochs: 8)
    #expect(lazy.contains { $0 != 0 }, "the model learned something")
  }

  @Test("L1 by the cumulative penalty, with weights clipped at zero")
  func l1() {
    let lazy = compare(.l1(0.02), eta: 0.1, epochs: 10)
    #expect(lazy.contains(0) && lazy.contains { $0 != 0 }, "L1 zeroes some weights, not all: \(lazy)")
  }

  @Test("elastic net: scaling and cumulative penalty together")
  func elasticNet() {
    let lazy = compare(.elasticNet(l1: 0.02, l2: 0.05), eta: 0.1, epochs: 10)
    #expect(lazy.contains(0) && lazy.contains { $0 != 0 }, "the elastic net zeroes some weights, not all")
  }

  @Test("the penalty's value")
  func penalty() {
    let w: [Float] = [1, -2, 0, 3]
    let value = w.withUnsafeBufferPointer { Regularization.elasticNet(l1: 0.5, l2: 2).penalty($0) }
    #expect(value == 0.5 * 6 + 0.5 * 2 * 14, "λ₁‖w‖₁ + ½λ₂‖w‖² = 3 + 14")
  }
}
