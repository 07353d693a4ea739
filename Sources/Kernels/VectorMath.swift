import CVectorMath

/// Exponentials and logarithms eight lanes at a time: softmax's K
/// exponentials were a quarter of a 10-class dense step as calls to the C
/// library's `expf`, and a final log-loss over 2M rows spent 30 ns a row in
/// `expf` and `log`.
public enum VectorMath {
  /// `eˣ` lane by lane, for `x ≤ 88`; lanes below −87 (and NaN) give e^−87
  /// (about 1.6e-38) instead of a smaller number or 0. Relative error about 2e-7.
  ///
  ///     n = round(x log₂e),  r = x − n ln 2  (|r| ≤ ln 2 / 2, ln 2 split in two for precision)
  ///     eˣ = 2ⁿ · eʳ,  eʳ ≈ Σ_{i ≤ 6} rⁱ / i!  (Horner), 2ⁿ built in the exponent bits
  @inlinable @inline(__always)
  public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // (`clamped(lowerBound:upperBound:)` compiles to two calls, a compare to a loop a lane.)
    let clamped = max(x, SIMD8(repeating: -87))
    // t = x log₂e + 1.5·2²³: adding the magic number rounds to a whole n, left in t's low bits.
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let t = magic.addingProduct(clamped, SIMD8(repeating: 1.442_695_04))
    let n = t - magic
    var r = clamped.addingProduct(n, SIMD8(repeating: -0.693_145_75))
    r.addProduct(n, SIMD8(repeating: -1.428_606_8e-6))
    // p ← c + p r, fused, from 1/6! down.
    var p = SIMD8<Float>(repeating: 1.0 / 120).addingProduct(SIMD8(repeating: 1.0 / 720), r)
    p = SIMD8(repeating: 1.0 / 24).addingProduct(p, r)
    p = SIMD8(repeating: 1.0 / 6).addingProduct(p, r)
    p = SIMD8(repeating: 0.5).addingProduct(p, r)
    p = SIMD8(repeating: 1).addingProduct(p, r)
    p = SIMD8(repeating: 1).addingProduct(p, r)
    // 2ⁿ: (n + 127) in the exponent field; t's bits are 0x4B40_0000 + n.
    let bits = unsafeBitCast(t, to: SIMD8<UInt32>.self) &+ SIMD8(repeating: 127 &- 0x4B40_0000)
    let scale = unsafeBitCast(bits &<< 23, to: SIMD8<Float>.self)
    return p * scale
  }

  /// `ln x` lane by lane, for normal positive `x` (at least 2⁻¹²⁶; what a
  /// clipped probability is): `cvectormath_log8`, Cephes' polynomial after
  /// splitting off the exponent. Absolute error about 1e-7 near 1, relative
  /// about 2e-7 elsewhere.
  @inlinable @inline(__always)
  public static func log(_ x: SIMD8<Float>) -> SIMD8<Float> { cvectormath_log8(x) }

  /// `a` in the lanes where `x ≥ 0`, `b` in the others.
  @inlinable @inline(__always)
  public static func select(nonNegative x: SIMD8<Float>, _ a: SIMD8<Float>, else b: SIMD8<Float>) -> SIMD8<
    Float
  > {
    cvectormath_select_nonnegative8(x, a, b)
  }

  /// The larger of `a` and `b` lane by lane, one instruction.
  @inlinable @inline(__always)
  public static func max(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { cvectormath_max8(a, b) }

  /// `Σₖ e^(m[k] − shift)` over `count` floats; with `store`, each
  /// `e^(m[k] − shift)` is also written over `m[k]`. For a softmax, `shift`
  /// is the largest `m[k]`, so no exponential overflows.
  @inline(__always)
  public static func sumOfExponentials(
    _ m: UnsafeMutablePointer<Float>, count: Int, shift: Float, store: Bool
  ) -> Float {
    let offset = SIMD8<Float>(repeating: shift)
    var sums = SIMD8<Float>()
    var k = 0
    while k &+ 8 <= count {
      let e = exp(load8(m, k) - offset)
      if store { store8(e, m, k) }
      sums += e
      k &+= 8
    }
    var sum = horizontalSum(sums)
    if k < count {
      // The last count mod 8 lanes go through a vector on the stack; the lanes past them are −∞.
      var rest = SIMD8<Float>(repeating: -.infinity)
      withUnsafeMutableBytes(of: &rest) { lanes in
        for lane in 0..<(count &- k) {
          lanes.storeBytes(of: m[k &+ lane], toByteOffset: lane &* 4, as: Float.self)
        }
      }
      var e = exp(rest - offset)
      withUnsafeBytes(of: &e) { lanes in
        for lane in 0..<(count &- k) {
          let value = lanes.load(fromByteOffset: lane &* 4, as: Float.self)
          if store { m[k &+ lane] = value }
          sum += value
        }
      }
    }
    return sum
  }
}
