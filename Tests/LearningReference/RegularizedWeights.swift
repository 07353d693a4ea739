import Kernels
import Learning

/// A reference for the tests, not run by the engine: the weights of a linear
/// model trained by SGD with an L1, L2 or elastic-net penalty, stored so that
/// a step on a sparse row costs O(non-zeros) instead of O(features). (The
/// engine applies penalties at replica meetings or in ``GradientUpdate``.)
///
/// **L2 by scaling.** The weights are kept as `w = s · v`. The L2 part of a
/// step shrinks every weight, `w ← (1 − η λ₂) w`; here it is one multiply,
/// `s ← (1 − η λ₂) s`, and a row update `w ← w − η d x` becomes
/// `v ← v − (η d / s) x`. When `s` gets small, `v` is rescaled
/// (`v ← s v`, `s ← 1`), an O(features) pass that happens once every many
/// steps.
///
/// **L1 by the cumulative penalty** (Tsuruoka, Tsujii and Ananiadou, ACL 2009).
/// `u` is the total L1 penalty any weight could have received so far, `qᵢ`
/// the penalty weight `i` actually received (signed). A weight is clipped
/// towards zero by what it is owed, never across it:
///
///     vᵢ > 0:  vᵢ ← max(0, vᵢ − (u + qᵢ))
///     vᵢ < 0:  vᵢ ← min(0, vᵢ + (u − qᵢ))
///     qᵢ ← qᵢ + (vᵢ,new − vᵢ,old)
///
/// Only the row's features are clipped: just before the margin (catching up
/// on what accrued since the feature was last seen) and just after the update.
/// The result equals the dense algorithm that clips every weight at every
/// step (the tests check it).
///
/// **Elastic net** combines both, with `u` and `q` kept in the units of `v`
/// (each step adds `η λ₁ / s`). Then the shrink and the clip commute, and the
/// result equals the dense "shrink every weight, then clip every weight" per
/// step; the one difference from plain cumulative L1 is that a debt owed by a
/// weight held at zero shrinks with the scale.
///
/// One writer at a time: the type is not `Sendable`. Lock-free strategies
/// share a plain model through `Kernels.Shared` instead.
public final class RegularizedWeights {
  /// Number of features.
  public let count: Int
  /// The penalty applied at each step.
  public let regularization: Regularization

  /// `v`, with `w = scale · v`.
  private let values: UnsafeMutableBufferPointer<Float>
  /// `s`.
  private var scale: Double = 1
  /// `u`, in the units of `v`.
  private var accrued: Double = 0
  /// `qᵢ`, in the units of `v`; empty without an L1 penalty.
  private let received: UnsafeMutableBufferPointer<Double>

  /// Below this scale `v` is folded back into plain weights, long before
  /// `v = w / s` could lose range.
  private static let smallestScale = 1e-6

  /// Zero weights for `count` features.
  public init(count: Int, regularization: Regularization) {
    precondition(count >= 0, "a model of \(count) features")
    self.count = count
    self.regularization = regularization
    values = .allocate(capacity: count)
    values.initialize(repeating: 0)
    received = .allocate(capacity: regularization.l1 > 0 ? count : 0)
    received.initialize(repeating: 0)
  }

  deinit {
    values.deallocate()
    received.deallocate()
  }

  /// The weight of feature `i`, with every L1 penalty owed so far applied.
  public subscript(i: Int) -> Float {
    precondition(i >= 0 && i < count, "feature \(i) of \(count)")
    if regularization.l1 > 0 { clip(i) }
    return Float(scale * Double(values[i]))
  }

  /// Writes the weights `w` to `destination` (`count` floats), with every
  /// L1 penalty owed so far applied.
  public func copyWeights(into destination: UnsafeMutableBufferPointer<Float>) {
    precondition(destination.count == count, "\(destination.count) floats for \(count) weights")
    for i in 0..<count { destination[i] = self[i] }
  }

  /// The margin `w·x` of a sparse row, after catching up on the L1 penalty
  /// its features accrued since they were last seen.
  public func margin(indices: UnsafeBufferPointer<Int32>, values x: UnsafeBufferPointer<Float>) -> Float {
    if regularization.l1 > 0 {
      for k in indices { clip(Int(k)) }
    }
    // m = s (v·x)
    return Float(scale * Double(Sparse.dot(indices: indices, values: x, model: UnsafeBufferPointer(values))))
  }

  /// The margin `w·x` of a dense row of `count` features.
  public func margin(dense x: UnsafeBufferPointer<Float>) -> Float {
    if regularization.l1 > 0 {
      for i in 0..<count { clip(i) }
    }
    return Float(scale * Double(Dense.dot(x, UnsafeBufferPointer(values))))
  }

  /// One regularised SGD step on a sparse row, given the loss derivative at
  /// its margin, `d = ℓ′(m, y)`, and the step size `η`:
  /// `w ← (1 − η λ₂) w − η d x`, then the L1 clip of the row's features.
  public func step(
    indices: UnsafeBufferPointer<Int32>, values x: UnsafeBufferPointer<Float>, derivative d: Float,
    learningRate eta: Float
  ) {
    shrink(learningRate: eta)
    // v ← v − (η d / s) x   ⇔   w ← w − η d x
    Sparse.axpy(Float(-Double(eta) * Double(d) / scale), indices: indices, values: x, into: values)
    if regularization.l1 > 0 {
      // u ← u + η λ₁ / s, then clip the touched weights
      accrued += Double(eta) * Double(regularization.l1) / scale
      for k in indices { clip(Int(k)) }
    }
    foldScaleIfSmall()
  }

  /// One regularised SGD step on a dense row of `count` features (see the
  /// sparse ``step(indices:values:derivative:learningRate:)``).
  public func step(dense x: UnsafeBufferPointer<Float>, derivative d: Float, learningRate eta: Float) {
    shrink(learningRate: eta)
    Dense.axpy(Float(-Double(eta) * Double(d) / scale), x, values)
    if regularization.l1 > 0 {
      accrued += Double(eta) * Double(regularization.l1) / scale
      for i in 0..<count { clip(i) }
    }
    foldScaleIfSmall()
  }

  /// The L2 shrink of every weight, as one multiply: `s ← (1 − η λ₂) s`.
  private func shrink(learningRate eta: Float) {
    let factor = 1 - Double(eta) * Double(regularization.l2)
    precondition(
      factor > 0, "η λ₂ = \(Double(eta) * Double(regularization.l2)) ≥ 1 would flip or zero every weight")
    scale *= factor
  }

  /// Applies what weight `i` owes of the cumulative L1 penalty.
  private func clip(_ i: Int) {
    let old = Double(values[i])
    var new = old
    if old > 0 {
      new = Double(Float(max(0, old - (accrued + received[i]))))
    } else if old < 0 {
      new = Double(Float(min(0, old + (accrued - received[i]))))
    }
    values[i] = Float(new)
    received[i] += new - old
  }

  /// Folds a small scale into the stored values: `v ← s v`, `u ← s u`,
  /// `q ← s q`, `s ← 1`. Exact up to rounding, since the clip is
  /// homogeneous in `(v, u, q)`.
  private func foldScaleIfSmall() {
    guard scale < Self.smallestScale else { return }
    Dense.scale(Float(scale), values)
    accrued *= scale
    for i in received.indices { received[i] *= scale }
    scale = 1
  }
}
