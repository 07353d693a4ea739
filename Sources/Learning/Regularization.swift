import Kernels

/// The penalty added to the loss: `λ₁ ‖w‖₁ + ½ λ₂ ‖w‖²`. L2 (ridge) has
/// `λ₁ = 0`, L1 (lasso) has `λ₂ = 0`, the elastic net has both.
///
/// The engine reports it with the training loss; training applies it once
/// per update (see the Engine's `GradientUpdate` and replica meetings).
public struct Regularization: Sendable, Equatable {
  /// The L1 strength `λ₁ ≥ 0`.
  public var l1: Float
  /// The L2 strength `λ₂ ≥ 0`.
  public var l2: Float

  /// A penalty with the given strengths.
  public init(l1: Float, l2: Float) {
    precondition(l1 >= 0 && l2 >= 0, "regularization strengths must be non-negative, got l1 \(l1), l2 \(l2)")
    self.l1 = l1
    self.l2 = l2
  }

  /// No penalty.
  public static let none = Regularization(l1: 0, l2: 0)

  /// Ridge: `½ λ ‖w‖²`.
  public static func l2(_ lambda: Float) -> Regularization { Regularization(l1: 0, l2: lambda) }

  /// Lasso: `λ ‖w‖₁`.
  public static func l1(_ lambda: Float) -> Regularization { Regularization(l1: lambda, l2: 0) }

  /// Elastic net: `λ₁ ‖w‖₁ + ½ λ₂ ‖w‖²`.
  public static func elasticNet(l1: Float, l2: Float) -> Regularization { Regularization(l1: l1, l2: l2) }

  /// The penalty's value at `w`, for reporting the full objective.
  public func penalty(_ w: UnsafeBufferPointer<Float>) -> Float {
    var absoluteSum: Float = 0
    if l1 > 0 {
      for value in w { absoluteSum += abs(value) }
    }
    return l1 * absoluteSum + 0.5 * l2 * Dense.squaredNorm(w)
  }
}
