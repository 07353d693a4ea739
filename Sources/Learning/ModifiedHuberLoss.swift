/// The modified Huber loss (Zhang 2004), labels `y ∈ {−1, +1}`: a smoothed
/// hinge that is quadratic near the margin and linear far on the wrong side,
/// so outliers pull with bounded force. With `z = y m`:
///
///     ℓ = 0          for z ≥ 1
///     ℓ = (1 − z)²   for −1 ≤ z < 1
///     ℓ = −4 z       for z < −1
public struct ModifiedHuberLoss: Objective {
  /// The modified Huber loss has no parameters.
  public init() {}

  /// The piecewise loss above.
  @inlinable
  public func loss(margin m: Float, label y: Float) -> Float {
    let z = y * m
    if z >= 1 { return 0 }
    if z >= -1 { return (1 - z) * (1 - z) }
    return -4 * z
  }

  /// `∂ℓ/∂m`: `0` for `z ≥ 1`, `−2 y (1 − z)` for `−1 ≤ z < 1`, `−4 y` below;
  /// continuous at both joins.
  @inlinable
  public func derivative(margin m: Float, label y: Float) -> Float {
    let z = y * m
    if z >= 1 { return 0 }
    if z >= -1 { return -2 * y * (1 - z) }
    return -4 * y
  }

  /// The class: `+1` for `m ≥ 0`, else `−1`.
  @inlinable
  public func prediction(margin m: Float) -> Float { m >= 0 ? 1 : -1 }
}
