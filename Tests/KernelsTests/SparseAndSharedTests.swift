import Kernels
import SeededRandom
import Testing

/// A random sparse row: `nnz` indices into a model of `features`, possibly
/// repeated, with spread values.
private func randomRow(nnz: Int, features: Int, _ rng: inout SplitMix64) -> (
  indices: [Int32], values: [Float]
) {
  (
    (0..<nnz).map { _ in Int32.random(in: 0..<Int32(features), using: &rng) },
    (0..<nnz).map { _ in spreadValue(&rng) }
  )
}

/// Sparse gather/scatter and the lock-free (relaxed atomic) kernels: each
/// against the scalar Double reference, and the lock-free ones also against
/// their plain twins, which they must match bit for bit when run alone.
@Suite("Sparse and shared-model kernels")
struct SparseAndSharedTests {
  static let features = 1000

  @Test("sparse dot and axpy, plain and relaxed, on every length up to 1000")
  func sparse() {
    var rng = SplitMix64(seed: 5)
    for nnz in testLengths(&rng) {
      let (indices, values) = randomRow(nnz: nnz, features: Self.features, &rng)
      let model = (0..<Self.features).map { _ in spreadValue(&rng) }
      let a = spreadValue(&rng)
      indices.withUnsafeBufferPointer { ks in
        values.withUnsafeBufferPointer { vs in
          let w = MisalignedBuffer(model, offset: nnz % 8)
          let terms = zip(indices, values).map { Double($1) * Double(model[Int($0)]) }
          let tolerance = sumTolerance(terms: nnz, sumOfMagnitudes: terms.map(abs).reduce(0, +))
          let plain = Sparse.dot(indices: ks, values: vs, model: w.readOnly)
          let relaxed = Shared.sparseDot(indices: ks, values: vs, model: w.buffer)
          #expect(abs(Double(plain) - terms.reduce(0, +)) <= tolerance, "sparse dot with \(nnz) non-zeros")
          #expect(plain.bitPattern == relaxed.bitPattern, "relaxed sparse dot differs from the plain one")

          var expected = model.map(Double.init)
          var magnitude = model.map { abs(Double($0)) }
          for (k, v) in zip(indices, values) {
            expected[Int(k)] += Double(a) * Double(v)
            magnitude[Int(k)] += abs(Double(a) * Double(v))
          }
          let twin = MisalignedBuffer(model, offset: 3)
          Sparse.axpy(a, indices: ks, values: vs, into: w.buffer)
          Shared.sparseAxpy(a, indices: ks, values: vs, model: twin.buffer)
          for i in 0..<Self.features {
            #expect(
              abs(Double(w.buffer[i]) - expected[i]) <= 4 * Double(Float.ulpOfOne) * magnitude[i],
              "sparse axpy weight \(i), \(nnz) non-zeros")
          }
          #expect(w.array == twin.array, "relaxed sparse axpy differs from the plain one")
        }
      }
    }
  }

  @Test("relaxed dense dot, axpy and step match the reference; racyStep matches Dense.step")
  func dense() {
    var rng = SplitMix64(seed: 6)
    for n in testLengths(&rng, random: 20) {
      let xs = (0..<n).map { _ in spreadValue(&rng) }
      let ws = (0..<n).map { _ in spreadValue(&rng) }
      let x = MisalignedBuffer(xs, offset: n % 8)
      let w = MisalignedBuffer(ws, offset: (n + 1) % 8)
      let terms = zip(xs, ws).map { Double($0) * Double($1) }
      let tolerance = sumTolerance(terms: n, sumOfMagnitudes: terms.map(abs).reduce(0, +))
      let got = Shared.dot(x.readOnly, model: w.buffer)
      #expect(abs(Double(got) - terms.reduce(0, +)) <= tolerance, "relaxed dot of length \(n)")

      let a = spreadValue(&rng)
      let plain = MisalignedBuffer(ws, offset: 2)
      Shared.axpy(a, x.readOnly, model: w.buffer)
      Dense.axpy(a, x.readOnly, plain.buffer)
      #expect(w.array == plain.array, "relaxed axpy of length \(n) differs from Dense.axpy")

      let small = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
      let relaxedModel = MisalignedBuffer(small, offset: 5)
      let racyModel = MisalignedBuffer(small, offset: 0)
      let denseModel = MisalignedBuffer(small, offset: 7)
      let rule: (Float) -> Float = { m in 0.25 - 0.125 * m }
      let m1 = Shared.step(x.readOnly, model: relaxedModel.buffer, coefficient: rule)
      let m2 = Shared.racyStep(x.readOnly, model: racyModel.buffer, coefficient: rule)
      let m3 = Dense.step(x.readOnly, denseModel.buffer, coefficient: rule)
      #expect(m2 == m3 && racyModel.array == denseModel.array, "racyStep differs from Dense.step")
      let margin = zip(xs, small).map { Double($0) * Double($1) }
      let marginTolerance = sumTolerance(terms: n, sumOfMagnitudes: margin.map(abs).reduce(0, +))
      #expect(abs(Double(m1) - margin.reduce(0, +)) <= marginTolerance, "relaxed step margin, length \(n)")
    }
  }
}
