#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// How the global step size `η_t` changes with the step number `t = 0, 1, 2, …`.
/// For a per-coordinate step size see ``AdaGrad``.
public enum StepSizeSchedule: Sendable, Equatable {
  /// `η_t = η₀`.
  case constant(Float)
  /// `η_t = η₀ / (1 + η₀ λ t)`: Bottou's schedule for a λ-strongly convex
  /// objective (scikit-learn's `"optimal"` is the same form). `λ` is usually
  /// the L2 strength.
  case optimal(initial: Float, lambda: Float)
  /// `η_t = η₀ / (t + 1)^p` (scikit-learn's `"invscaling"`); `p = ½` is the
  /// classic choice for convex, non-smooth losses.
  case inverseScaling(initial: Float, exponent: Float)

  /// The step size at step `t` (counted from 0).
  @inlinable
  public func rate(at t: Int) -> Float {
    switch self {
    case .constant(let eta):
      return eta
    case .optimal(let eta, let lambda):
      return eta / (1 + eta * lambda * Float(t))
    case .inverseScaling(let eta, let p):
      return eta / pow(Float(t + 1), p)
    }
  }
}
