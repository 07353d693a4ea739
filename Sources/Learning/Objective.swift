/// A loss of a linear model, written as a function of the margin `m = w·x`
/// and the label `y`: `ℓ(m, y)`.
///
/// Training loops are generic over `Objective` (`func train<O: Objective>`),
/// so the compiler specialises them for each concrete loss and inlines its
/// three functions: the per-example cost is that of the arithmetic, with no
/// dynamic dispatch. Do not pass an `any Objective` into an inner loop.
///
/// Labels: regression objectives take any real `y`; classification
/// objectives take `y ∈ {−1, +1}`.
public protocol Objective: Sendable {
  /// The loss `ℓ(m, y)` of predicting margin `m` for label `y`.
  func loss(margin m: Float, label y: Float) -> Float
  /// The derivative of the loss with respect to the margin, `∂ℓ/∂m`; the
  /// gradient with respect to the weights is this times the row, `ℓ′(m, y) x`.
  /// At a kink (hinge) it returns one valid subgradient.
  func derivative(margin m: Float, label y: Float) -> Float
  /// The prediction for margin `m`: the value itself (regression), a
  /// probability (logistic), or a class `±1` (margin classifiers).
  func prediction(margin m: Float) -> Float
  /// The loss and its derivative at once, for a training step that also
  /// reports its loss; losses whose two share work (logistic: one
  /// exponential) compute it once.
  func lossAndDerivative(margin m: Float, label y: Float) -> (loss: Float, derivative: Float)
}

extension Objective {
  /// The loss and the derivative, each on its own.
  @inlinable
  public func lossAndDerivative(margin m: Float, label y: Float) -> (loss: Float, derivative: Float) {
    (loss(margin: m, label: y), derivative(margin: m, label: y))
  }
}
