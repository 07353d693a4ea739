import CVectorMath

/// Per-coordinate adaptive steps, AdaGrad (Duchi, Hazan and Singer, 2011):
/// each coordinate keeps the sum of its squared gradients and steps by the
/// base rate over that sum's square root,
///
///     gᵢ ← gᵢ + λ₂ wᵢ,   Gᵢ ← Gᵢ + gᵢ²,   ηᵢ = η₀ / √(Gᵢ + ε²),
///     wᵢ ← wᵢ − ηᵢ gᵢ,   then wᵢ ← sign(wᵢ) max(|wᵢ| − ηᵢ λ₁, 0),
///
/// so a rare feature keeps large steps while frequent ones settle. The
/// inverse square root is the processor's estimate refined by one Newton
/// step (relative error about 1e-7; see CSupport/CVectorMath): a correctly
/// rounded root and a division cost a dense step a quarter more. On a
/// sparse row the penalties act on the row's features only (as in Vowpal
/// Wabbit), which keeps a step O(non-zeros): a feature in a share `pᵢ` of
/// the rows is penalised `pᵢ` times as hard as a dense one, so sparse SGD
/// under AdaGrad minimises the objective with feature `i`'s penalties times
/// `pᵢ` (the engine reports that objective; see `PenaltyShares`).
///
/// The `Shared` variants read and write weights and sums through relaxed
/// atomics (plain moves on x86-64), for models that several workers update
/// without locks, Hogwild!-style.
public struct AdaptiveStep: Sendable, Equatable {
  /// The base step size `η₀`.
  public var rate: Float
  /// The L1 strength `λ₁`.
  public var l1: Float
  /// The L2 strength `λ₂`.
  public var l2: Float
  /// The `ε` that keeps a coordinate's first step finite (`ε²` is added to
  /// the sum under the root).
  public var epsilon: Float

  public init(rate: Float, l1: Float = 0, l2: Float = 0, epsilon: Float = 1e-8) {
    self.rate = rate
    self.l1 = l1
    self.l2 = l2
    self.epsilon = epsilon
  }

  /// One coordinate with loss gradient `g`: the update above.
  @inline(__always)
  public func update(_ w: UnsafeMutablePointer<Float>, sum: UnsafeMutablePointer<Float>, gradient g: Float) {
    adaptiveUpdate(PlainAccess.self, w, sum, gradient: g, self)
  }

  /// ``update(_:sum:gradient:)`` through relaxed atomics.
  @inline(__always)
  public func sharedUpdate(
    _ w: UnsafeMutablePointer<Float>, sum: UnsafeMutablePointer<Float>, gradient g: Float
  ) {
    adaptiveUpdate(RelaxedAccess.self, w, sum, gradient: g, self)
  }

  /// One step on a sparse row whose loss derivative is `d`: `gᵢ = d xₖ` for
  /// each non-zero `xₖ` of feature `i`. `sums` is as long as the model.
  @inline(__always)
  public func step(
    derivative d: Float, indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    model w: UnsafeMutableBufferPointer<Float>, sums: UnsafeMutableBufferPointer<Float>
  ) {
    scatterAdaptive(PlainAccess.self, d, indices: indices, values: values, model: w, sums: sums, self)
  }

  /// ``step(derivative:indices:values:model:sums:)`` through relaxed atomics.
  @inline(__always)
  public func sharedStep(
    derivative d: Float, indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    model w: UnsafeMutableBufferPointer<Float>, sums: UnsafeMutableBufferPointer<Float>
  ) {
    scatterAdaptive(RelaxedAccess.self, d, indices: indices, values: values, model: w, sums: sums, self)
  }

  /// One step on a dense row whose loss derivative is `d`, eight coordinates
  /// at a time. Like ``Shared/racyStep(_:model:coefficient:)``, it may be used
  /// on a shared model as a documented race: a concurrent write to the same
  /// eight weights can be lost.
  public func step(
    derivative d: Float, dense x: UnsafeBufferPointer<Float>, model w: UnsafeMutableBufferPointer<Float>,
    sums: UnsafeMutableBufferPointer<Float>
  ) {
    precondition(
      x.count == w.count && sums.count == w.count,
      "a row of \(x.count), a model of \(w.count) and \(sums.count) sums")
    guard let xs = x.baseAddress, let ws = w.baseAddress, let gs = sums.baseAddress else { return }
    let n = x.count
    let derivative = SIMD8<Float>(repeating: d)
    // Preconditions: xs, ws and gs each hold n floats; ws and gs overlap neither xs nor each other.
    assert(xs + n <= UnsafePointer(ws) || UnsafePointer(ws) + n <= xs, "the model overlaps the row")
    var i = 0
    while i &+ 8 <= n {
      // g ← d x, eight lanes; then the AdaGrad update of adaptiveLanes
      let (weights, squares) = adaptiveLanes(
        load8(ws, i), sums: load8(gs, i), gradient: derivative * load8(xs, i), self)
      store8(squares, gs, i)
      store8(weights, ws, i)
      i &+= 8
    }
    while i < n {
      update(ws + i, sum: gs + i, gradient: d * xs[i])
      i &+= 1
    }
  }
}

/// Eight coordinates' AdaGrad update from their loss gradients `gradient`:
/// the new weights and sums (see ``AdaptiveStep``),
///
///     g ← g + λ₂ w;  G ← G + g²;  w ← w − η₀ g / √(G + ε²);  w ← sign(w) max(|w| − η λ₁, 0)
@inline(__always)
func adaptiveLanes(
  _ weights: SIMD8<Float>, sums: SIMD8<Float>, gradient: SIMD8<Float>, _ step: AdaptiveStep
) -> (weights: SIMD8<Float>, sums: SIMD8<Float>) {
  var g = gradient
  g.addProduct(SIMD8(repeating: step.l2), weights)
  var squares = sums
  squares.addProduct(g, g)
  let epsilon = SIMD8<Float>(repeating: step.epsilon)
  let eta = SIMD8(repeating: step.rate) * cvectormath_rsqrt8(squares + epsilon * epsilon)
  var updated = weights
  updated.addProduct(-eta, g)
  if step.l1 > 0 {
    // w ← sign(w) max(|w| − η λ₁, 0)
    // (pointwiseMax compiles to a call; a compare and a blend do not.)
    var shrunk = updated.replacing(with: -updated, where: updated .< 0) - eta * SIMD8(repeating: step.l1)
    shrunk = shrunk.replacing(with: 0, where: shrunk .< 0)
    updated = shrunk.replacing(with: -shrunk, where: updated .< 0)
  }
  return (updated, squares)
}

/// One coordinate's AdaGrad update, weight and sum read and written through `Access`.
@inline(__always)
func adaptiveUpdate<Access: ModelAccess>(
  _: Access.Type, _ w: UnsafeMutablePointer<Float>, _ sum: UnsafeMutablePointer<Float>, gradient: Float,
  _ step: AdaptiveStep
) {
  let weight = Access.load(w)
  // g ← g + λ₂ w;  G ← G + g²;  η = η₀ / √(G + ε²);  w ← w − η g
  let g = gradient.addingProduct(step.l2, weight)
  let squares = Access.load(sum).addingProduct(g, g)
  Access.store(squares, sum)
  let eta = step.rate * cvectormath_rsqrt(squares + step.epsilon * step.epsilon)
  var value = weight.addingProduct(-eta, g)
  if step.l1 > 0 {
    // w ← sign(w) max(|w| − η λ₁, 0)
    let clip = eta * step.l1
    value = value > clip ? value - clip : (value < -clip ? value + clip : 0)
  }
  Access.store(value, w)
}

/// ``adaptiveUpdate(_:_:_:gradient:_:)`` for each non-zero of a sparse row
/// with loss derivative `d`; repeated indices are applied one after the other.
@inline(__always)
func scatterAdaptive<Access: ModelAccess>(
  _: Access.Type, _ d: Float, indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
  model w: UnsafeMutableBufferPointer<Float>, sums: UnsafeMutableBufferPointer<Float>, _ step: AdaptiveStep
) {
  precondition(indices.count == values.count, "\(indices.count) indices for \(values.count) values")
  precondition(sums.count == w.count, "\(sums.count) sums for a model of \(w.count)")
  guard let ks = indices.baseAddress, let vs = values.baseAddress, let ws = w.baseAddress,
    let gs = sums.baseAddress
  else { return }
  // Preconditions: ks and vs hold indices.count entries; every index is in 0..<w.count.
  assert(indices.allSatisfy { $0 >= 0 && Int($0) < w.count }, "an index lies outside the model")
  for k in 0..<indices.count {
    let i = Int(ks[k])
    adaptiveUpdate(Access.self, ws + i, gs + i, gradient: d * vs[k], step)
  }
}
