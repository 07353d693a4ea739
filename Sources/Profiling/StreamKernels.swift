/// The two STREAM-style loops the bandwidth probe times. They are kept apart
/// from `Kernels` on purpose: the probe is the yardstick the training kernels
/// are measured against, so it must not share their code.
enum StreamKernels {
  /// Σ xᵢ, read-only: 4 bytes of traffic per element.
  ///
  /// Preconditions: `x` may have any length and alignment; it is only read.
  /// Four 8-wide accumulators keep enough independent adds in flight to
  /// saturate memory rather than the add latency.
  @inline(__always)
  static func sum(_ x: UnsafeBufferPointer<Float>) -> Float {
    guard let base = x.baseAddress else { return 0 }
    let count = x.count
    var a0 = SIMD8<Float>()
    var a1 = SIMD8<Float>()
    var a2 = SIMD8<Float>()
    var a3 = SIMD8<Float>()
    let raw = UnsafeRawPointer(base)
    var i = 0
    while i + 32 <= count {
      a0 += raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
      a1 += raw.loadUnaligned(fromByteOffset: (i &+ 8) &* 4, as: SIMD8<Float>.self)
      a2 += raw.loadUnaligned(fromByteOffset: (i &+ 16) &* 4, as: SIMD8<Float>.self)
      a3 += raw.loadUnaligned(fromByteOffset: (i &+ 24) &* 4, as: SIMD8<Float>.self)
      i &+= 32
    }
    var total = ((a0 + a1) + (a2 + a3)).sum()
    while i < count {
      total += base[i]
      i &+= 1
    }
    return total
  }

  /// aᵢ ← bᵢ + q·cᵢ (STREAM triad): 12 bytes of traffic per element, not
  /// counting the write-allocate read of `a`, as STREAM counts it.
  ///
  /// Preconditions: the three buffers have the same length and do not overlap.
  @inline(__always)
  static func triad(
    _ a: UnsafeMutableBufferPointer<Float>, _ b: UnsafeBufferPointer<Float>,
    _ c: UnsafeBufferPointer<Float>, _ q: Float
  ) {
    assert(a.count == b.count && b.count == c.count, "triad needs equal lengths")
    guard let pa = a.baseAddress, let pb = b.baseAddress, let pc = c.baseAddress else { return }
    for i in 0..<a.count { pa[i] = pb[i] + q * pc[i] }
  }
}
