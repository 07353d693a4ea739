import Learning
import LearningReference
import Testing

@Suite("AdaGrad")
struct AdaGradTests {
  @Test("sparse and dense steps follow Gᵢ += gᵢ², wᵢ −= η₀ gᵢ / √(Gᵢ + ε²)")
  func steps() {
    let n = 21
    let x = (0..<n).map { Float($0 % 7) - 3 }
    let dense = AdaGrad(count: n, initialRate: 0.5)
    let sparse = AdaGrad(count: n, initialRate: 0.5)
    var wDense = [Float](repeating: 1, count: n)
    var wSparse = wDense
    var expected = wDense.map(Double.init)
    var sums = [Double](repeating: 0, count: n)
    let indices = (0..<n).map(Int32.init)
    for d: Float in [0.5, -1, 2] {
      x.withUnsafeBufferPointer { xs in
        wDense.withUnsafeMutableBufferPointer { dense.step(dense: xs, derivative: d, model: $0) }
        indices.withUnsafeBufferPointer { ks in
          wSparse.withUnsafeMutableBufferPointer {
            sparse.step(indices: ks, values: xs, derivative: d, model: $0)
          }
        }
      }
      for i in 0..<n {
        let g = Double(d) * Double(x[i])
        sums[i] += g * g
        expected[i] -= 0.5 * g / (sums[i] + 1e-16).squareRoot()
      }
    }
    for i in 0..<n {
      #expect(
        abs(Double(wDense[i]) - expected[i]) <= 1e-5, "dense weight \(i): \(wDense[i]) vs \(expected[i])")
      #expect(
        abs(Double(wSparse[i]) - expected[i]) <= 1e-5, "sparse weight \(i): \(wSparse[i]) vs \(expected[i])")
    }
  }
}
