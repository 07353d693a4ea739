/// Least squares for regression: `ℓ(m, y) = ½ (m − y)²`. Its mean over a data
/// set is half the mean squared error (MSE).
public struct SquaredLoss: Objective {
  /// The squared loss has no parameters.
  public init() {}

  /// `½ (m − y)²`.
  @inlinable
  public func loss(margin m: Float, label y: Float) -> Float {
    let r = m - y
    return 0.5 * r * r
  }

  /// `∂ℓ/∂m = m − y`, the residual.
  @inlinable
  public func derivative(margin m: Float, label y: Float) -> Float { m - y }

  /// The identity: the margin is the predicted value.
  @inlinable
  public func prediction(margin m: Float) -> Float { m }
}
