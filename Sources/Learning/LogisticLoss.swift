#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Logistic regression for binary classification, labels `y ∈ {−1, +1}`:
/// `ℓ(m, y) = log(1 + e^(−y m))`, the negative log-likelihood of `y` under
/// `P(y = +1) = σ(m) = 1 / (1 + e^(−m))`.
///
/// Written so that no intermediate overflows: with `z = y m`, the loss is
/// `log1p(e^(−z))` for `z > 0` and `−z + log1p(e^z)` otherwise, so it is
/// finite (≈ |z|) even at margins of ±1000, where `e^(−z)` alone would be
/// infinite.
public struct LogisticLoss: Objective {
  /// The logistic loss has no parameters.
  public init() {}

  /// `log(1 + e^(−y m))`, evaluated without overflow.
  @inlinable
  public func loss(margin m: Float, label y: Float) -> Float {
    let z = y * m
    return z > 0 ? log1p(exp(-z)) : -z + log1p(exp(z))
  }

  /// `∂ℓ/∂m = −y σ(−y m)`, with `σ(−z)` evaluated through `e^(−|z|)` so it never overflows.
  @inlinable
  public func derivative(margin m: Float, label y: Float) -> Float {
    let z = y * m
    // σ(−z) = 1 / (1 + e^z) = e^(−z) / (1 + e^(−z))
    let e = exp(-abs(z))
    let tail = z >= 0 ? e / (1 + e) : 1 / (1 + e)
    return -y * tail
  }

  /// Both from one exponential: with `z = y m` and `e = e^(−|z|)`,
  /// `ℓ = max(−z, 0) + log1p(e)` and `∂ℓ/∂m = −y σ(−z)`.
  @inlinable
  public func lossAndDerivative(margin m: Float, label y: Float) -> (loss: Float, derivative: Float) {
    let z = y * m
    let e = exp(-abs(z))
    let tail = z >= 0 ? e / (1 + e) : 1 / (1 + e)
    return (max(-z, 0) + Self.log1pOfUnit(e), -y * tail)
  }

  /// `log(1 + e)` for `e` in [0, 1], without a library call: with
  /// `t = e / (2 + e)` ≤ 1/3, `log(1 + e) = 2 atanh t = 2 (t + t³/3 + … + t¹³/13)`,
  /// whose next term is below 10⁻⁸ (a Float's rounding of log 2 is 3·10⁻⁸).
  @inlinable
  static func log1pOfUnit(_ e: Float) -> Float {
    let t = e / (2 + e)
    let t2 = t * t
    var sum: Float = 1 / 13
    sum = sum * t2 + 1 / 11
    sum = sum * t2 + 1 / 9
    sum = sum * t2 + 1 / 7
    sum = sum * t2 + 1 / 5
    sum = sum * t2 + 1 / 3
    sum = sum * t2 + 1
    return 2 * t * sum
  }

  /// The probability of the positive class, `σ(m) = 1 / (1 + e^(−m))`.
  @inlinable
  public func prediction(margin m: Float) -> Float {
    let e = exp(-abs(m))
    return m >= 0 ? 1 / (1 + e) : e / (1 + e)
  }
}
