import Foundation
import Kernels
import SeededRandom
import Testing

/// The K-output kernels against scalar Double twins written here, for output
/// counts around the 8-lane groups (and their tails) and feature counts
/// around the 4-way unrolling, with guard floats around the model that no
/// kernel may touch.
@Suite("K-output kernels")
struct OutputsTests {
  static let outputCounts = [1, 2, 3, 7, 8, 9, 10, 15, 16, 17, 20, 24]
  static let featureCounts = [0, 1, 2, 3, 4, 5, 7, 13, 64]
  static let guardValue: Float = 12345

  /// A model of `count` floats with 16 guard floats on each side.
  final class GuardedModel {
    var storage: [Float]
    init(_ values: [Float]) {
      storage = Array(repeating: guardValue, count: 16) + values + Array(repeating: guardValue, count: 16)
    }
    var model: [Float] { Array(storage[16..<storage.count - 16]) }
    var guardsIntact: Bool {
      storage.prefix(16).allSatisfy { $0 == guardValue } && storage.suffix(16).allSatisfy { $0 == guardValue }
    }
    func withModel<R>(_ body: (UnsafeMutableBufferPointer<Float>) -> R) -> R {
      storage.withUnsafeMutableBufferPointer { all in
        body(UnsafeMutableBufferPointer(rebasing: all[16..<all.count - 16]))
      }
    }
  }

  static func values(_ count: Int, _ rng: inout SplitMix64) -> [Float] {
    (0..<count).map { _ in Float.random(in: -2...2, using: &rng) }
  }

  @Test("dense margins and outer products match the Double twin and stay inside the model")
  func dense() {
    var rng = SplitMix64(seed: 17)
    for outputs in Self.outputCounts {
      for features in Self.featureCounts {
        let x = Self.values(features, &rng)
        let weights = Self.values(features * outputs, &rng)
        let start = Self.values(outputs, &rng)
        let c = Self.values(outputs, &rng)
        let model = GuardedModel(weights)
        let shared = GuardedModel(weights)
        var m = start
        x.withUnsafeBufferPointer { xs in
          model.withModel { w in
            m.withUnsafeMutableBufferPointer {
              Outputs.addMargins(
                dense: xs, model: UnsafeBufferPointer(w), outputs: outputs, into: $0.baseAddress!)
            }
            c.withUnsafeBufferPointer {
              Outputs.addOuter(dense: xs, coefficients: $0.baseAddress!, outputs: outputs, model: w)
            }
          }
          shared.withModel { w in
            c.withUnsafeBufferPointer {
              Outputs.sharedAddOuter(dense: xs, coefficients: $0.baseAddress!, outputs: outputs, model: w)
            }
          }
        }
        #expect(
          model.guardsIntact && shared.guardsIntact,
          "K \(outputs), D \(features): a kernel wrote outside the model")
        #expect(
          model.model == shared.model,
          "K \(outputs), D \(features): the shared update differs from the plain one")
        for k in 0..<outputs {
          var expected = Double(start[k])
          var magnitude = abs(expected)
          for j in 0..<features {
            expected += Double(x[j]) * Double(weights[j * outputs + k])
            magnitude += abs(Double(x[j]) * Double(weights[j * outputs + k]))
          }
          let tolerance = Double(features + 2) * Double(Float.ulpOfOne) * magnitude
          #expect(
            abs(Double(m[k]) - expected) <= tolerance,
            "K \(outputs), D \(features): margin \(k) is \(m[k]), expected \(expected)")
        }
        for j in 0..<features {
          for k in 0..<outputs {
            let expected = Double(weights[j * outputs + k]) + Double(x[j]) * Double(c[k])
            let got = Double(model.model[j * outputs + k])
            #expect(
              abs(got - expected) <= Double(Float.ulpOfOne) * abs(expected) + 1e-30,
              "K \(outputs), D \(features): w[\(j), \(k)]")
          }
        }
      }
    }
  }

  @Test(
    "sparse margins, outer products and AdaGrad steps, plain and relaxed, match the Double twin and stay inside"
  )
  func sparse() {
    var rng = SplitMix64(seed: 23)
    let features = 40
    let step = AdaptiveStep(rate: 0.3, l1: 0.01, l2: 0.02)
    for outputs in Self.outputCounts {
      for nnz in [0, 1, 3, 9] {
        let indices = (0..<nnz).map { _ in Int32(rng.next(below: features)) }.sorted()
        let values = Self.values(nnz, &rng)
        let weights = Self.values(features * outputs, &rng)
        let sums = (0..<features * outputs).map { _ in Float.random(in: 0...3, using: &rng) }
        let d = Self.values(outputs, &rng)
        var plain = [Float](repeating: 0, count: outputs)
        var relaxed = plain
        // The plain kernels write vectors past a group's lanes: guard floats around their model.
        let guarded = GuardedModel(weights)
        let guardedSums = GuardedModel(sums)
        var relaxedModel = weights
        var relaxedSums = sums
        indices.withUnsafeBufferPointer { ks in
          values.withUnsafeBufferPointer { vs in
            d.withUnsafeBufferPointer { c in
              guarded.withModel { w in
                plain.withUnsafeMutableBufferPointer {
                  Outputs.addMargins(
                    indices: ks, values: vs, model: UnsafeBufferPointer(w), outputs: outputs,
                    into: $0.baseAddress!)
                }
              }
              relaxedModel.withUnsafeMutableBufferPointer { w in
                relaxed.withUnsafeMutableBufferPointer {
                  Outputs.sharedAddMargins(
                    indices: ks, values: vs, model: w, outputs: outputs, into: $0.baseAddress!)
                }
              }
              guarded.withModel {
                Outputs.addOuter(
                  indices: ks, values: vs, coefficients: c.baseAddress!, outputs: outputs, model: $0)
              }
              relaxedModel.withUnsafeMutableBufferPointer {
                Outputs.sharedAddOuter(
                  indices: ks, values: vs, coefficients: c.baseAddress!, outputs: outputs, model: $0)
              }
              guarded.withModel { w in
                guardedSums.withModel {
                  Outputs.adaptive(
                    indices: ks, values: vs, derivatives: c.baseAddress!, outputs: outputs, model: w,
                    sums: $0, step: step)
                }
              }
              relaxedModel.withUnsafeMutableBufferPointer { w in
                relaxedSums.withUnsafeMutableBufferPointer {
                  Outputs.sharedAdaptive(
                    indices: ks, values: vs, derivatives: c.baseAddress!, outputs: outputs, model: w,
                    sums: $0, step: step)
                }
              }
            }
          }
        }
        #expect(
          guarded.guardsIntact && guardedSums.guardsIntact, "K \(outputs), nnz \(nnz): a kernel wrote outside"
        )
        let plainModel = guarded.model
        let plainSums = guardedSums.model
        // The Double twin: margins, then w ← w + v c, then per weight g = d v, AdaGrad's step with its proximal penalties (AdaptiveTests.reference).
        var model = weights.map(Double.init)
        var squares = sums.map(Double.init)
        for k in 0..<outputs {
          let expected = zip(indices, values).reduce(0.0) {
            $0 + Double($1.1) * model[Int($1.0) * outputs + k]
          }
          for (name, got) in [("plain", plain[k]), ("relaxed", relaxed[k])] {
            #expect(
              abs(Double(got) - expected) <= 1e-5 * (1 + abs(expected)),
              "K \(outputs), nnz \(nnz): \(name) margin \(k)")
          }
        }
        for (index, value) in zip(indices, values) {
          for k in 0..<outputs { model[Int(index) * outputs + k] += Double(value) * Double(d[k]) }
        }
        for (index, value) in zip(indices, values) {
          for k in 0..<outputs {
            let slot = Int(index) * outputs + k
            AdaptiveTests.reference(&model[slot], &squares[slot], Double(d[k]) * Double(value), step)
          }
        }
        for slot in model.indices {
          for (name, weights, sums) in [
            ("plain", plainModel, plainSums), ("relaxed", relaxedModel, relaxedSums),
          ] {
            #expect(
              abs(Double(weights[slot]) - model[slot]) <= 1e-5 * (1 + abs(model[slot])),
              "K \(outputs), nnz \(nnz): \(name) weight \(slot)")
            #expect(
              abs(Double(sums[slot]) - squares[slot]) <= 1e-5 * (1 + squares[slot]),
              "K \(outputs), nnz \(nnz): \(name) sum \(slot)")
          }
        }
      }
    }
  }

  @Test("eight-lane logarithms are within 3e-7 of log (absolute near 1, relative elsewhere)")
  func logarithms() {
    var worst = 0.0
    // From 2⁻¹²⁶ to the largest float, 40,000 steps in the exponent, and every float near 1.
    let spread = (0...40_000).map { Float(Foundation.pow(2.0, -126 + Double($0) * (253.0 / 40_000))) }
    let nearOne = (0...20_000).map { 1 + (Float($0) - 10_000) * Float.ulpOfOne }
    for x in spread + nearOne {
      let got = Double(VectorMath.log(SIMD8(repeating: x))[5])
      let expected = Foundation.log(Double(x))
      worst = max(worst, abs(got - expected) / max(1, abs(expected)))
    }
    #expect(worst <= 3e-7, "largest error \(worst)")
  }

  @Test("eight-lane exponentials are within 3e-7 of exp, and the softmax sums match")
  func exponentials() {
    var worst = 0.0
    for step in 0...20_000 {
      let x = -87 + Float(step) * (175.0 / 20_000)
      let got = VectorMath.exp(SIMD8(repeating: x))
      let expected = Foundation.exp(Double(x))
      worst = max(worst, abs(Double(got[0]) - expected) / expected)
    }
    #expect(worst <= 3e-7, "largest relative error \(worst)")
    let floor = Double(VectorMath.exp(SIMD8(repeating: -1000))[3])
    #expect(
      abs(floor - Foundation.exp(-87.0)) <= 3e-7 * Foundation.exp(-87.0),
      "below −87 gives e^−87, got \(floor)")
    var rng = SplitMix64(seed: 3)
    for count in 1...20 {
      var m = Self.values(count, &rng).map { $0 * 10 }
      let top = m.max()!
      let expected = m.map { Foundation.exp(Double($0 - top)) }
      let sum = m.withUnsafeMutableBufferPointer {
        VectorMath.sumOfExponentials($0.baseAddress!, count: count, shift: top, store: true)
      }
      #expect(abs(Double(sum) - expected.reduce(0, +)) <= 1e-6 * expected.reduce(0, +), "\(count) values")
      for k in 0..<count { #expect(abs(Double(m[k]) - expected[k]) <= 1e-6 * expected[k] + 1e-37) }
    }
  }
}
