import Kernels
import SeededRandom
import Testing

@Suite("Adaptive (AdaGrad) steps")
struct AdaptiveTests {
  /// The update in `Double`, one coordinate: g ← g + λ₂w, G ← G + g²,
  /// η = η₀/√(G + ε²), w ← w − ηg, then the L1 shrink by ηλ₁.
  static func reference(_ w: inout Double, _ sum: inout Double, _ gradient: Double, _ step: AdaptiveStep) {
    let g = gradient + Double(step.l2) * w
    sum += g * g
    let eta = Double(step.rate) / (sum + Double(step.epsilon) * Double(step.epsilon)).squareRoot()
    w -= eta * g
    let clip = eta * Double(step.l1)
    w = w > clip ? w - clip : (w < -clip ? w + clip : 0)
  }

  @Test(
    "dense, sparse and shared steps match a Double reference for every tail length, with and without penalties",
    arguments: [AdaptiveStep(rate: 0.5), AdaptiveStep(rate: 0.1, l1: 0.01, l2: 0.1)])
  func matchesReference(step: AdaptiveStep) {
    var rng = SplitMix64(seed: 42)
    for n in 0...40 {
      let x = (0..<n).map { _ in Float.random(in: -2...2, using: &rng) }
      let start = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
      var dense = start
      var sparse = start
      var shared = start
      var denseSums = [Float](repeating: 0, count: n)
      var sparseSums = denseSums
      var sharedSums = denseSums
      var expected = start.map(Double.init)
      var expectedSums = [Double](repeating: 0, count: n)
      let indices = (0..<n).map(Int32.init)
      for d: Float in [0.5, -1, 2, 0.25] {
        x.withUnsafeBufferPointer { xs in
          indices.withUnsafeBufferPointer { ks in
            dense.withUnsafeMutableBufferPointer { w in
              denseSums.withUnsafeMutableBufferPointer {
                step.step(derivative: d, dense: xs, model: w, sums: $0)
              }
            }
            sparse.withUnsafeMutableBufferPointer { w in
              sparseSums.withUnsafeMutableBufferPointer {
                step.step(derivative: d, indices: ks, values: xs, model: w, sums: $0)
              }
            }
            shared.withUnsafeMutableBufferPointer { w in
              sharedSums.withUnsafeMutableBufferPointer {
                step.sharedStep(derivative: d, indices: ks, values: xs, model: w, sums: $0)
              }
            }
          }
        }
        for i in 0..<n { Self.reference(&expected[i], &expectedSums[i], Double(d) * Double(x[i]), step) }
      }
      for i in 0..<n {
        let tolerance = 1e-5 * max(1, abs(expected[i]))
        #expect(
          abs(Double(dense[i]) - expected[i]) <= tolerance,
          "n \(n), dense \(i): \(dense[i]) vs \(expected[i])")
        #expect(abs(Double(sparse[i]) - expected[i]) <= tolerance, "n \(n), sparse \(i)")
        #expect(shared[i] == sparse[i] && sharedSums[i] == sparseSums[i], "relaxed and plain differ at \(i)")
        #expect(abs(Double(denseSums[i]) - expectedSums[i]) <= 1e-5 * max(1, expectedSums[i]))
      }
    }
  }

  @Test("a coordinate the row does not touch keeps its weight and sum")
  func untouched() {
    let step = AdaptiveStep(rate: 1, l2: 0.5)
    var w: [Float] = [1, 2, 3]
    var sums: [Float] = [0, 4, 0]
    let indices: [Int32] = [1]
    let values: [Float] = [2]
    indices.withUnsafeBufferPointer { ks in
      values.withUnsafeBufferPointer { vs in
        w.withUnsafeMutableBufferPointer { model in
          sums.withUnsafeMutableBufferPointer {
            step.step(derivative: 1, indices: ks, values: vs, model: model, sums: $0)
          }
        }
      }
    }
    #expect(w[0] == 1 && w[2] == 3 && sums[0] == 0 && sums[2] == 0)
    // g = 1·2 + 0.5·2 = 3;  G = 4 + 9 = 13;  w = 2 − 3/√13
    #expect(abs(w[1] - (2 - 3 / Float(13).squareRoot())) < 1e-6 && sums[1] == 13)
  }
}
