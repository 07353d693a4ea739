import SeededRandom

/// Reproducible random data for kernel tests: vectors placed at chosen
/// misalignments, with values spread over many orders of magnitude.

/// A random float whose magnitude is spread log-uniformly over 2⁻²⁰…2²⁰
/// (about 1e-6…1e6), with a random sign. Products of two stay far from
/// overflow and underflow, sums of a thousand mix large and tiny terms.
func spreadValue(_ rng: inout SplitMix64) -> Float {
  let magnitude = Float.pow2(Float.random(in: -20...20, using: &rng))
  return Bool.random(using: &rng) ? magnitude : -magnitude
}

extension Float {
  /// 2 raised to `exponent`, through `Double` so tests need no math library.
  static func pow2(_ exponent: Float) -> Float {
    let whole = exponent.rounded(.down)
    let fraction = Double(exponent - whole)
    // 2^f for f in [0, 1) by a short series of ln 2 powers, plenty for test data.
    var term = 1.0
    var sum = 1.0
    for k in 1...12 {
      term *= fraction * 0.693_147_180_559_945_3 / Double(k)
      sum += term
    }
    return Float(sum) * Float(sign: .plus, exponent: Int(whole), significand: 1)
  }
}

/// A buffer of `count` floats starting `offset` floats past a 64-byte
/// boundary, so kernels see every misalignment. Owns its memory.
final class MisalignedBuffer {
  private let raw: UnsafeMutableRawPointer
  /// The floats under test.
  let buffer: UnsafeMutableBufferPointer<Float>

  init(count: Int, offset: Int) {
    raw = .allocate(byteCount: (count + offset + 16) * 4, alignment: 64)
    let start = raw.bindMemory(to: Float.self, capacity: count + offset + 16) + offset
    buffer = UnsafeMutableBufferPointer(start: start, count: count)
    buffer.initialize(repeating: .nan)
  }

  convenience init(_ values: [Float], offset: Int) {
    self.init(count: values.count, offset: offset)
    _ = buffer.initialize(from: values)
  }

  deinit { raw.deallocate() }

  var readOnly: UnsafeBufferPointer<Float> { UnsafeBufferPointer(buffer) }
  var array: [Float] { Array(buffer) }
}

/// Every length from 0 to 80 (all tail lengths after 8-, 16- and 32-wide
/// blocks, several times over), then random lengths up to 1000.
func testLengths(_ rng: inout SplitMix64, random: Int = 40) -> [Int] {
  Array(0...80) + (0..<random).map { _ in Int.random(in: 81...1000, using: &rng) }
}

/// The rounding bound for a float sum of `n` terms whose magnitudes add up
/// to `sumOfMagnitudes`: `n · ε · Σ|terms|` (ε the float machine epsilon,
/// twice the unit roundoff; blocked summation is well inside this).
func sumTolerance(terms n: Int, sumOfMagnitudes: Double) -> Double {
  Double(n + 1) * Double(Float.ulpOfOne) * sumOfMagnitudes
}
