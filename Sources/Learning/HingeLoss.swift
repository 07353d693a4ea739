/// The hinge loss of a linear support vector machine, labels `y ∈ {−1, +1}`:
/// `ℓ(m, y) = max(0, 1 − y m)`.
public struct HingeLoss: Objective {
  /// The hinge loss has no parameters.
  public init() {}

  /// `max(0, 1 − y m)`.
  @inlinable
  public func loss(margin m: Float, label y: Float) -> Float { max(0, 1 - y * m) }

  /// `∂ℓ/∂m = −y` inside the margin (`y m < 1`), `0` outside; at `y m = 1`
  /// the subgradient `0`.
  @inlinable
  public func derivative(margin m: Float, label y: Float) -> Float { y * m < 1 ? -y : 0 }

  /// The class: `+1` for `m ≥ 0`, else `−1`.
  @inlinable
  public func prediction(margin m: Float) -> Float { m >= 0 ? 1 : -1 }
}
