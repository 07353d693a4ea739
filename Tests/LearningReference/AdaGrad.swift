import Kernels
import Learning

/// A reference for the tests, not run by the engine (which runs the same
/// kernels on its replicas through its row step): AdaGrad (Duchi, Hazan and
/// Singer, 2011), a step size per coordinate that
/// shrinks with the squared gradients that coordinate has seen,
///
///     Gᵢ ← Gᵢ + gᵢ²,   wᵢ ← wᵢ − η₀ gᵢ / √(Gᵢ + ε²),
///
/// so rare features keep large steps and frequent ones settle. For a linear
/// model the gradient of one example is `g = d x` with `d = ℓ′(m, y)`, so a
/// sparse step touches only the row's features.
///
/// One writer at a time: the type is not `Sendable`. The engine calls the
/// same kernels, ``Kernels/AdaptiveStep``, on its replicas.
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
    precondition(w.count == count, "a model of \(w.count) for \(count) accumulators")
    kernel.step(derivative: d, indices: indices, values: x, model: w, sums: squaredSums)
  }

  /// One step on a dense row of `count` features, eight coordinates at a time.
  public func step(
    dense x: UnsafeBufferPointer<Float>, derivative d: Float, model w: UnsafeMutableBufferPointer<Float>
  ) {
    precondition(
      x.count == count && w.count == count, "a row of \(x.count) and a model of \(w.count) for \(count)")
    kernel.step(derivative: d, dense: x, model: w, sums: squaredSums)
  }

  private var kernel: AdaptiveStep { AdaptiveStep(rate: initialRate, epsilon: epsilon) }
}
