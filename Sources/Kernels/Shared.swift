/// Kernels on a model that other threads read and write at the same time
/// without locks (Hogwild!). Every model access is a relaxed atomic load or
/// store from `CAtomics`, so the race is defined behaviour and the thread
/// sanitizer stays usable; on x86-64 each is the same plain move a racy
/// access would be. A concurrent update between a load and its store can be
/// lost, which Hogwild! tolerates.
///
/// Relaxed atomics cannot be vectorised: a dense model is read and written
/// one float at a time. For the sparse kernels that costs nothing (they are
/// scalar anyway: `tools/check-kernels-asm` shows identical instructions). For
/// dense rows it costs a factor of several (BENCHMARKS.md), so
/// ``racyStep(_:model:coefficient:)`` offers the one deliberately racy SIMD kernel.
public enum Shared {
  /// `Σᵢ xᵢ wᵢ` with every `wᵢ` read by a relaxed atomic load.
  public static func dot(_ x: UnsafeBufferPointer<Float>, model w: UnsafeMutableBufferPointer<Float>) -> Float
  {
    precondition(x.count == w.count, "a row of \(x.count) and a model of \(w.count)")
    guard let xs = x.baseAddress, let ws = w.baseAddress else { return 0 }
    return dot(xs, ws, count: x.count)
  }

  /// `w ← w + a x` with every `wᵢ` read and written by relaxed atomics.
  public static func axpy(
    _ a: Float, _ x: UnsafeBufferPointer<Float>, model w: UnsafeMutableBufferPointer<Float>
  ) {
    precondition(x.count == w.count, "a row of \(x.count) and a model of \(w.count)")
    guard let xs = x.baseAddress, let ws = w.baseAddress else { return }
    axpy(a, xs, ws, count: x.count)
  }

  /// One lock-free SGD step on a dense row: `m = w·x`, then `w ← w + c(m) x`,
  /// all model accesses relaxed atomics. Returns the margin.
  @discardableResult
  public static func step(
    _ x: UnsafeBufferPointer<Float>, model w: UnsafeMutableBufferPointer<Float>, coefficient: (Float) -> Float
  ) -> Float {
    precondition(x.count == w.count, "a row of \(x.count) and a model of \(w.count)")
    guard let xs = x.baseAddress, let ws = w.baseAddress else { return 0 }
    // m = w·x;  w ← w + c(m) x
    let margin = dot(xs, ws, count: x.count)
    axpy(coefficient(margin), xs, ws, count: x.count)
    return margin
  }

  /// One SGD step on a dense row against a shared model with plain SIMD loads
  /// and stores: a data race by the language's rules, as in the original
  /// Hogwild! C code, and the only such kernel in Sounder.
  ///
  /// Why it exists: on a dense row, the relaxed ``step(_:model:coefficient:)``
  /// runs element by element and measures several times slower
  /// (BENCHMARKS.md). Why it is tolerable: on x86-64 an aligned or unaligned
  /// vector load or store never tears a single float (each 4-byte lane is
  /// written whole), so every value read is some value a thread wrote, which
  /// is all Hogwild!'s analysis assumes. Beware: the thread sanitizer does
  /// not instrument 32-byte vector accesses, so it stays silent about this
  /// kernel's races (checked: two threads on one model, no report). Its
  /// silence says nothing about strategies that use this kernel.
  @discardableResult
  public static func racyStep(
    _ x: UnsafeBufferPointer<Float>, model w: UnsafeMutableBufferPointer<Float>, coefficient: (Float) -> Float
  ) -> Float {
    Dense.step(x, w, coefficient: coefficient)
  }

  /// `Σₖ valuesₖ · w[indicesₖ]` with every model read a relaxed atomic load.
  public static func sparseDot(
    indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    model w: UnsafeMutableBufferPointer<Float>
  ) -> Float {
    gatherDot(RelaxedAccess.self, indices: indices, values: values, model: w)
  }

  /// `w[indicesₖ] ← w[indicesₖ] + a · valuesₖ` with relaxed atomic loads and
  /// stores (not an atomic read-modify-write: see the type's documentation).
  public static func sparseAxpy(
    _ a: Float, indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    model w: UnsafeMutableBufferPointer<Float>
  ) {
    scatterAxpy(RelaxedAccess.self, a, indices: indices, values: values, model: w)
  }

  /// `Σᵢ xᵢ wᵢ`, the model read one relaxed load at a time, four
  /// accumulators to keep four multiply-adds in flight.
  static func dot(_ xs: UnsafePointer<Float>, _ ws: UnsafeMutablePointer<Float>, count n: Int) -> Float {
    var s0: Float = 0
    var s1: Float = 0
    var s2: Float = 0
    var s3: Float = 0
    // Preconditions: xs and ws each hold n floats, any alignment.
    assert(n >= 0, "negative length \(n)")
    var i = 0
    while i &+ 4 <= n {
      // sₖ ← sₖ + x[i+k] w[i+k]
      s0.addProduct(xs[i], RelaxedAccess.load(ws + i))
      s1.addProduct(xs[i &+ 1], RelaxedAccess.load(ws + (i &+ 1)))
      s2.addProduct(xs[i &+ 2], RelaxedAccess.load(ws + (i &+ 2)))
      s3.addProduct(xs[i &+ 3], RelaxedAccess.load(ws + (i &+ 3)))
      i &+= 4
    }
    while i < n {
      s0.addProduct(xs[i], RelaxedAccess.load(ws + i))
      i &+= 1
    }
    return (s0 + s1) + (s2 + s3)
  }

  /// `w ← w + a x`, each `wᵢ` a relaxed load and a relaxed store.
  static func axpy(_ a: Float, _ xs: UnsafePointer<Float>, _ ws: UnsafeMutablePointer<Float>, count n: Int) {
    // Preconditions: xs and ws each hold n floats, any alignment; they do not overlap.
    assert(n >= 0, "negative length \(n)")
    var i = 0
    while i < n {
      // w[i] ← w[i] + a x[i]
      RelaxedAccess.store(RelaxedAccess.load(ws + i).addingProduct(a, xs[i]), ws + i)
      i &+= 1
    }
  }
}
