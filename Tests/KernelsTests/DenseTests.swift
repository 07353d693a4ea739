import Kernels
import SeededRandom
import Testing

@Suite("Dense kernels against a scalar Double reference")
struct DenseTests {
  @Test("dot and squaredNorm on every tail length and misalignment")
  func dot() {
    var rng = SplitMix64(seed: 1)
    for n in testLengths(&rng) {
      let xs = (0..<n).map { _ in spreadValue(&rng) }
      let ys = (0..<n).map { _ in spreadValue(&rng) }
      let x = MisalignedBuffer(xs, offset: n % 8)
      let y = MisalignedBuffer(ys, offset: (n / 8) % 8)
      let terms = zip(xs, ys).map { Double($0) * Double($1) }
      let expected = terms.reduce(0, +)
      let tolerance = sumTolerance(terms: n, sumOfMagnitudes: terms.map(abs).reduce(0, +))
      let got = Dense.dot(x.readOnly, y.readOnly)
      #expect(abs(Double(got) - expected) <= tolerance, "dot of length \(n): \(got), expected \(expected)")

      let squares = xs.map { Double($0) * Double($0) }.reduce(0, +)
      let norm = Dense.squaredNorm(x.readOnly)
      #expect(
        abs(Double(norm) - squares) <= sumTolerance(terms: n, sumOfMagnitudes: squares),
        "squared norm of length \(n): \(norm), expected \(squares)")
    }
  }

  @Test("axpy and scale on every tail length and misalignment")
  func axpyAndScale() {
    var rng = SplitMix64(seed: 2)
    for n in testLengths(&rng) {
      let a = spreadValue(&rng)
      let xs = (0..<n).map { _ in spreadValue(&rng) }
      let ys = (0..<n).map { _ in spreadValue(&rng) }
      let x = MisalignedBuffer(xs, offset: (n + 3) % 8)
      let y = MisalignedBuffer(ys, offset: n % 5)
      Dense.axpy(a, x.readOnly, y.buffer)
      for i in 0..<n {
        let expected = Double(a) * Double(xs[i]) + Double(ys[i])
        let tolerance = Double(Float.ulpOfOne) * (abs(Double(a) * Double(xs[i])) + abs(Double(ys[i])))
        #expect(abs(Double(y.buffer[i]) - expected) <= tolerance, "axpy[\(i)] of length \(n)")
      }

      Dense.scale(a, x.buffer)
      for i in 0..<n {
        let expected = Double(a) * Double(xs[i])
        #expect(
          abs(Double(x.buffer[i]) - expected) <= Double(Float.ulpOfOne) * abs(expected), "scale[\(i)] of \(n)"
        )
      }
    }
  }

  @Test("step computes the margin, then adds coefficient(margin) · x")
  func step() {
    var rng = SplitMix64(seed: 3)
    for n in testLengths(&rng, random: 10) {
      let xs = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
      let ws = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
      let x = MisalignedBuffer(xs, offset: 1)
      let w = MisalignedBuffer(ws, offset: 6)
      var seenMargin: Float = .nan
      let margin = Dense.step(x.readOnly, w.buffer) { m in
        seenMargin = m
        return -0.5 * m
      }
      #expect(margin == seenMargin, "step returns the margin it passed to the coefficient")
      let expectedMargin = zip(xs, ws).map { Double($0) * Double($1) }.reduce(0, +)
      let magnitude = zip(xs, ws).map { abs(Double($0) * Double($1)) }.reduce(0, +)
      #expect(abs(Double(margin) - expectedMargin) <= sumTolerance(terms: n, sumOfMagnitudes: magnitude))
      for i in 0..<n {
        let change = -0.5 * Double(margin) * Double(xs[i])
        let expected = Double(ws[i]) + change
        let tolerance = 2 * Double(Float.ulpOfOne) * (abs(Double(ws[i])) + abs(change))
        #expect(abs(Double(w.buffer[i]) - expected) <= tolerance, "step weight \(i) of \(n)")
      }
    }
  }

  @Test("margins and the transpose product of a strided block of rows")
  func block() {
    var rng = SplitMix64(seed: 4)
    for trial in 0..<200 {
      let rows = trial % 11
      let columns = trial < 100 ? trial % 40 : Int.random(in: 0...300, using: &rng)
      let stride = columns + Int.random(in: 0...9, using: &rng)
      let data = (0..<(rows * stride)).map { _ in spreadValue(&rng) }
      let storage = MisalignedBuffer(data, offset: trial % 8)
      let block = RowMajorBlock(
        base: UnsafePointer(storage.buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: 64)!),
        rows: rows, columns: columns, rowStride: stride)
      let ws = (0..<columns).map { _ in spreadValue(&rng) }
      let w = MisalignedBuffer(ws, offset: (trial + 5) % 8)
      let margins = MisalignedBuffer(count: rows, offset: 3)
      Dense.margins(of: block, model: w.readOnly, into: margins.buffer)
      for r in 0..<rows {
        let terms = (0..<columns).map { Double(data[r * stride + $0]) * Double(ws[$0]) }
        let tolerance = sumTolerance(terms: columns, sumOfMagnitudes: terms.map(abs).reduce(0, +))
        #expect(
          abs(Double(margins.buffer[r]) - terms.reduce(0, +)) <= tolerance,
          "margin of row \(r) of \(rows) × \(columns), stride \(stride)")
      }

      let cs = (0..<rows).map { _ in spreadValue(&rng) }
      let c = MisalignedBuffer(cs, offset: 2)
      let g0 = (0..<columns).map { _ in spreadValue(&rng) }
      let g = MisalignedBuffer(g0, offset: (trial + 1) % 8)
      Dense.accumulateTransposed(of: block, coefficients: c.readOnly, into: g.buffer)
      for j in 0..<columns {
        let terms = [Double(g0[j])] + (0..<rows).map { Double(cs[$0]) * Double(data[$0 * stride + j]) }
        let tolerance = sumTolerance(terms: rows + 1, sumOfMagnitudes: terms.map(abs).reduce(0, +))
        #expect(
          abs(Double(g.buffer[j]) - terms.reduce(0, +)) <= tolerance,
          "gradient column \(j) of \(rows) × \(columns), stride \(stride)")
      }
    }
  }
}
