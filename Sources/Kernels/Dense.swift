import CVectorMath

/// Dense vector kernels over unsafe buffers: the inner loops of gradient
/// descent on dense rows.
///
/// Every kernel accepts buffers at any alignment and of any length, including
/// zero. Loops run eight lanes at a time (`SIMD8<Float>`, one AVX register)
/// with four independent accumulators, so four fused multiply-adds are in
/// flight and their latency is hidden; the last `count % 8` elements run
/// scalar. Sums are therefore reassociated: results differ from a
/// left-to-right sum by rounding only (see the tests for the bound).
public enum Dense {
  /// The inner product of two vectors of equal length: `Σᵢ xᵢ yᵢ`.
  public static func dot(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>) -> Float {
    precondition(x.count == y.count, "dot of vectors of lengths \(x.count) and \(y.count)")
    guard let xs = x.baseAddress, let ys = y.baseAddress else { return 0 }
    return dot(xs, ys, count: x.count)
  }

  /// `y ← a x + y` over two vectors of equal length.
  public static func axpy(
    _ a: Float, _ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<Float>
  ) {
    precondition(x.count == y.count, "axpy of vectors of lengths \(x.count) and \(y.count)")
    guard let xs = x.baseAddress, let ys = y.baseAddress else { return }
    axpy(a, xs, ys, count: x.count)
  }

  /// `x ← a x`.
  public static func scale(_ a: Float, _ x: UnsafeMutableBufferPointer<Float>) {
    guard let xs = x.baseAddress else { return }
    let n = x.count
    let factor = SIMD8<Float>(repeating: a)
    // Preconditions: xs holds n floats, any alignment.
    var i = 0
    while i &+ 8 <= n {
      // x[i..<i+8] ← a · x[i..<i+8]
      store8(load8(xs, i) * factor, xs, i)
      i &+= 8
    }
    while i < n {
      xs[i] *= a
      i &+= 1
    }
  }

  /// Asks for the cache lines of `x[0..<count]` before they are read
  /// (`prefetcht0`, one a 64-byte line; a hint, never a fault): what a loop
  /// does for the rows it will read next when the hardware prefetcher alone
  /// leaves it waiting on memory.
  @inlinable @inline(__always)
  public static func prefetch(_ x: UnsafePointer<Float>, count: Int) {
    let start = UnsafeRawPointer(x)
    var offset = 0
    while offset < count &* 4 {
      cvectormath_prefetch(start + offset)
      offset &+= 64
    }
  }

  /// The squared Euclidean norm `‖x‖² = Σᵢ xᵢ²`.
  public static func squaredNorm(_ x: UnsafeBufferPointer<Float>) -> Float {
    guard let xs = x.baseAddress else { return 0 }
    return dot(xs, xs, count: x.count)
  }

  /// One stochastic gradient step on a dense row, fused into one call:
  /// computes the margin `m = w·x`, asks `coefficient(m)` for the step
  /// coefficient `c` (typically `−η ℓ′(m, y)`), then applies `w ← w + c x`.
  /// Returns the margin, so the caller can record the loss.
  ///
  /// The row is read twice, once for the margin and once for the update; a
  /// row that fits in L1 is read from memory once.
  @discardableResult
  public static func step(
    _ x: UnsafeBufferPointer<Float>, _ w: UnsafeMutableBufferPointer<Float>,
    coefficient: (Float) -> Float
  ) -> Float {
    precondition(x.count == w.count, "step with a row of \(x.count) and a model of \(w.count)")
    guard let xs = x.baseAddress, let ws = w.baseAddress else { return 0 }
    // m = w·x;  w ← w + c(m) x
    let margin = dot(xs, ws, count: x.count)
    axpy(coefficient(margin), xs, ws, count: x.count)
    return margin
  }

  /// `Σᵢ xᵢ yᵢ` over `count` floats from each pointer. Inlined into each
  /// public kernel, so a fused step makes one call, not three.
  @inline(__always)
  static func dot(_ xs: UnsafePointer<Float>, _ ys: UnsafePointer<Float>, count n: Int) -> Float {
    var a0 = SIMD8<Float>()
    var a1 = SIMD8<Float>()
    var a2 = SIMD8<Float>()
    var a3 = SIMD8<Float>()
    // Preconditions: xs and ys each hold n floats, any alignment; they may alias.
    assert(n >= 0, "negative length \(n)")
    var i = 0
    while i &+ 32 <= n {
      // aₖ ← aₖ + x[i+8k..] ⊙ y[i+8k..]
      a0.addProduct(load8(xs, i), load8(ys, i))
      a1.addProduct(load8(xs, i &+ 8), load8(ys, i &+ 8))
      a2.addProduct(load8(xs, i &+ 16), load8(ys, i &+ 16))
      a3.addProduct(load8(xs, i &+ 24), load8(ys, i &+ 24))
      i &+= 32
    }
    while i &+ 8 <= n {
      a0.addProduct(load8(xs, i), load8(ys, i))
      i &+= 8
    }
    var sum = horizontalSum((a0 + a1) + (a2 + a3))
    while i < n {
      sum.addProduct(xs[i], ys[i])
      i &+= 1
    }
    return sum
  }

  /// `y ← a x + y` over `count` floats.
  @inline(__always)
  static func axpy(
    _ a: Float, _ xs: UnsafePointer<Float>, _ ys: UnsafeMutablePointer<Float>, count n: Int
  ) {
    let factor = SIMD8<Float>(repeating: a)
    // Preconditions: xs and ys each hold n floats, any alignment; they do not
    // overlap unless they are equal.
    assert(n >= 0, "negative length \(n)")
    assert(
      UnsafePointer(ys) == xs || UnsafePointer(ys) + n <= xs || xs + n <= UnsafePointer(ys),
      "axpy on partly overlapping vectors")
    var i = 0
    while i &+ 32 <= n {
      // y[i..<i+32] ← a x[i..<i+32] + y[i..<i+32]
      store8(load8(ys, i).addingProduct(factor, load8(xs, i)), ys, i)
      store8(load8(ys, i &+ 8).addingProduct(factor, load8(xs, i &+ 8)), ys, i &+ 8)
      store8(load8(ys, i &+ 16).addingProduct(factor, load8(xs, i &+ 16)), ys, i &+ 16)
      store8(load8(ys, i &+ 24).addingProduct(factor, load8(xs, i &+ 24)), ys, i &+ 24)
      i &+= 32
    }
    while i &+ 8 <= n {
      store8(load8(ys, i).addingProduct(factor, load8(xs, i)), ys, i)
      i &+= 8
    }
    while i < n {
      ys[i].addProduct(a, xs[i])
      i &+= 1
    }
  }
}
