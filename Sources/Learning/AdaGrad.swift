/// AdaGrad (Duchi, Hazan and Singer, 2011): a step size per coordinate that
/// shrinks with the squared gradients that coordinate has seen,
///
///     Gᵢ ← Gᵢ + gᵢ²,   wᵢ ← wᵢ − η₀ gᵢ / (√Gᵢ + ε),
///
/// so rare features keep large steps and frequent ones settle. For a linear
/// model the gradient of one example is `g = d x` with `d = ℓ′(m, y)`, so a
/// sparse step touches only the row's features.
///
/// One writer at a time: the type is not `Sendable`.
public final class AdaGrad {
  /// The base step size `η₀`.
  public let initialRate: Float
  /// The `ε` that keeps the first steps finite.
  public let epsilon: Float
  /// `Gᵢ`, the sums of squared gradients.
  private let squaredSums: UnsafeMutableBufferPointer<Float>

  /// Accumulators for `count` coordinates, all zero.
  public init(count: Int, initialRate: Float, epsilon: Float = 1e-8) {
    precondition(count >= 0 && initialRate > 0 && epsilon > 0, "AdaGrad needs count ≥ 0, η₀ > 0, ε > 0")
    self.initialRate = initialRate
    self.epsilon = epsilon
    squaredSums = .allocate(capacity: count)
    squaredSums.initialize(repeating: 0)
  }

  deinit { squaredSums.deallocate() }

  /// Number of coordinates.
  public var count: Int { squaredSums.count }

  /// One step on a sparse row with loss derivative `d`: for each non-zero
  /// `xₖ` of feature `i`, `gᵢ = d xₖ`, then the update above.
  public func step(
    indices: UnsafeBufferPointer<Int32>, values x: UnsafeBufferPointer<Float>, derivative d: Float,
    model w: UnsafeMutableBufferPointer<Float>
  ) {
    precondition(indices.count == x.count, "\(indices.count) indices for \(x.count) values")
    precondition(w.count == count, "a model of \(w.count) for \(count) accumulators")
    // Preconditions: every index is in 0..<count.
    assert(indices.allSatisfy { $0 >= 0 && Int($0) < count }, "an index lies outside the model")
    for k in 0..<indices.count {
      let i = Int(indices[k])
      // Gᵢ ← Gᵢ + gᵢ²;  wᵢ ← wᵢ − η₀ gᵢ / (√Gᵢ + ε)
      let g = d * x[k]
      squaredSums[i].addProduct(g, g)
      w[i] -= initialRate * g / (squaredSums[i].squareRoot() + epsilon)
    }
  }

  /// One step on a dense row of `count` features, eight coordinates at a time.
  public func step(
    dense x: UnsafeBufferPointer<Float>, derivative d: Float, model w: UnsafeMutableBufferPointer<Float>
  ) {
    precondition(
      x.count == count && w.count == count, "a row of \(x.count) and a model of \(w.count) for \(count)")
    guard let xs = x.baseAddress, let ws = w.baseAddress, let gs = squaredSums.baseAddress else { return }
    let n = count
    let dv = SIMD8<Float>(repeating: d)
    let rate = SIMD8<Float>(repeating: initialRate)
    let eps = SIMD8<Float>(repeating: epsilon)
    // Preconditions: xs, ws and gs each hold n floats; ws does not overlap xs
    // (gs is this object's own memory).
    assert(xs + n <= UnsafePointer(ws) || UnsafePointer(ws) + n <= xs, "the model overlaps the row")
    var i = 0
    while i &+ 8 <= n {
      // G ← G + g²;  w ← w − η₀ g / (√G + ε), eight lanes
      let g = dv * UnsafeRawPointer(xs + i).loadUnaligned(as: SIMD8<Float>.self)
      var sums = UnsafeRawPointer(gs + i).loadUnaligned(as: SIMD8<Float>.self)
      sums.addProduct(g, g)
      UnsafeMutableRawPointer(gs + i).storeBytes(of: sums, as: SIMD8<Float>.self)
      let weights = UnsafeRawPointer(ws + i).loadUnaligned(as: SIMD8<Float>.self)
      let updated = weights - rate * g / (sums.squareRoot() + eps)
      UnsafeMutableRawPointer(ws + i).storeBytes(of: updated, as: SIMD8<Float>.self)
      i &+= 8
    }
    while i < n {
      let g = d * xs[i]
      gs[i].addProduct(g, g)
      ws[i] -= initialRate * g / (gs[i].squareRoot() + epsilon)
      i &+= 1
    }
  }
}
