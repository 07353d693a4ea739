import Kernels

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A loss over the K margins of one row, `ℓ(m, y)` with `m = Wᵀx + b ∈ ℝᴷ`:
/// what every training loop, evaluation and prediction in Sounder runs on.
///
/// One output (`K = 1`, ``Single``) is regression or binary classification,
/// with `y` real or ±1. Several are multiclass classification with `y` the
/// class index `0..<K` as a float: ``Softmax`` (multinomial logistic
/// regression) or ``OneVsRest`` (K binary problems side by side).
///
/// Loops are generic over it (`func step<O: OutputObjective>`), so each
/// objective gets its own specialised code; for ``Single`` the output count
/// is the constant 1 and the compiler removes the loops over outputs.
public protocol OutputObjective: Sendable {
  /// K, the number of margins per row.
  var outputs: Int { get }
  /// `ℓ(m, y)` for the K margins at `m`.
  func loss(margins m: UnsafePointer<Float>, label y: Float) -> Float
  /// Overwrites the K margins at `m` with `scale · ∂ℓ/∂mₖ`.
  func derivatives(_ m: UnsafeMutablePointer<Float>, label y: Float, scale: Float)
  /// Returns `ℓ(m, y)` and overwrites the margins as ``derivatives(_:label:scale:)``
  /// does, sharing the work the two have in common.
  func lossAndDerivatives(_ m: UnsafeMutablePointer<Float>, label y: Float, scale: Float) -> Float
}

extension OutputObjective {
  /// The loss, then the derivatives.
  @inlinable
  public func lossAndDerivatives(_ m: UnsafeMutablePointer<Float>, label y: Float, scale: Float) -> Float {
    let value = loss(margins: m, label: y)
    derivatives(m, label: y, scale: scale)
    return value
  }
}

/// One output: a scalar ``Objective`` (squared, logistic, hinge, modified Huber).
public struct Single<O: Objective>: OutputObjective {
  /// The scalar loss.
  public let objective: O

  /// The one-output form of `objective`.
  @inlinable
  public init(_ objective: O) { self.objective = objective }

  /// Always 1.
  @inlinable
  public var outputs: Int { 1 }

  @inlinable
  public func loss(margins m: UnsafePointer<Float>, label y: Float) -> Float {
    objective.loss(margin: m.pointee, label: y)
  }

  @inlinable
  public func derivatives(_ m: UnsafeMutablePointer<Float>, label y: Float, scale: Float) {
    m.pointee = scale * objective.derivative(margin: m.pointee, label: y)
  }

  @inlinable
  public func lossAndDerivatives(_ m: UnsafeMutablePointer<Float>, label y: Float, scale: Float) -> Float {
    let (loss, derivative) = objective.lossAndDerivative(margin: m.pointee, label: y)
    m.pointee = scale * derivative
    return loss
  }
}

/// One-vs-rest: output `k` is a binary problem of its own, class `k` (+1)
/// against every other class (−1), and the loss is their sum,
///
///     ℓ(m, c) = Σₖ ℓₖ(mₖ, yₖ),   yₖ = +1 if k = c else −1.
///
/// The predicted class is the output with the largest margin.
public struct OneVsRest<O: Objective>: OutputObjective {
  /// The binary loss of each output.
  public let objective: O
  /// K, the number of classes.
  public let outputs: Int

  /// K binary problems with loss `objective`.
  @inlinable
  public init(_ objective: O, classes: Int) {
    precondition(classes >= 2, "one-vs-rest needs at least 2 classes, got \(classes)")
    self.objective = objective
    outputs = classes
  }

  @inlinable
  public func loss(margins m: UnsafePointer<Float>, label y: Float) -> Float {
    let c = Int(y)
    var sum: Float = 0
    for k in 0..<outputs { sum += objective.loss(margin: m[k], label: k == c ? 1 : -1) }
    return sum
  }

  @inlinable
  public func derivatives(_ m: UnsafeMutablePointer<Float>, label y: Float, scale: Float) {
    let c = Int(y)
    for k in 0..<outputs { m[k] = scale * objective.derivative(margin: m[k], label: k == c ? 1 : -1) }
  }
}

/// Multinomial logistic regression: the negative log-likelihood of class
/// `c` under the softmax of the margins,
///
///     ℓ(m, c) = −m_c + log Σₖ e^(mₖ),   ∂ℓ/∂mₖ = pₖ − [k = c],   pₖ = e^(mₖ) / Σⱼ e^(mⱼ).
///
/// Evaluated with the largest margin subtracted first, so no exponential
/// overflows.
public struct Softmax: OutputObjective {
  /// K, the number of classes.
  public let outputs: Int

  /// Softmax over `classes` outputs.
  @inlinable
  public init(classes: Int) {
    precondition(classes >= 2, "softmax needs at least 2 classes, got \(classes)")
    outputs = classes
  }

  @inlinable
  public func loss(margins m: UnsafePointer<Float>, label y: Float) -> Float {
    let top = largest(m)
    let sum = VectorMath.sumOfExponentials(
      UnsafeMutablePointer(mutating: m), count: outputs, shift: top, store: false)
    // log Σ e^(mₖ) − m_c = top + log Σ e^(mₖ − top) − m_c
    return top + log(sum) - m[Int(y)]
  }

  /// One pass of exponentials for both: `ℓ = top + log Σ e^(mₖ − top) − m_c`.
  @inlinable
  public func lossAndDerivatives(_ m: UnsafeMutablePointer<Float>, label y: Float, scale: Float) -> Float {
    let top = largest(m)
    let own = m[Int(y)]
    let sum = VectorMath.sumOfExponentials(m, count: outputs, shift: top, store: true)
    let share = scale / sum
    for k in 0..<outputs { m[k] *= share }
    m[Int(y)] -= scale
    return top + log(sum) - own
  }

  @inlinable
  public func derivatives(_ m: UnsafeMutablePointer<Float>, label y: Float, scale: Float) {
    let sum = VectorMath.sumOfExponentials(m, count: outputs, shift: largest(m), store: true)
    let share = scale / sum
    for k in 0..<outputs { m[k] *= share }  // scale · pₖ
    m[Int(y)] -= scale  // scale · (p_c − 1)
  }

  /// The class probabilities `pₖ` for the K margins at `m`, written over them.
  @inlinable
  public func probabilities(_ m: UnsafeMutablePointer<Float>) {
    let sum = VectorMath.sumOfExponentials(m, count: outputs, shift: largest(m), store: true)
    for k in 0..<outputs { m[k] /= sum }
  }

  /// The largest of the K margins at `m`.
  @inlinable
  func largest(_ m: UnsafePointer<Float>) -> Float {
    var top = m[0]
    for k in 1..<outputs { top = max(top, m[k]) }
    return top
  }
}

/// Generic code that runs with a concrete ``OutputObjective``: the way from a
/// ``Loss`` and an output count chosen at run time to loops specialised for
/// them.
public protocol OutputObjectiveVisitor {
  /// What the visit produces.
  associatedtype Result
  /// Runs with `objective` as its concrete type.
  func visit<O: OutputObjective>(_ objective: O) throws -> Result
}

extension Loss {
  /// Calls `visitor.visit` with the objective of this loss over `outputs`
  /// margins: ``Softmax`` for ``softmax``, otherwise the scalar loss alone
  /// (one output) or one-vs-rest (several).
  @inlinable
  public func visit<Visitor: OutputObjectiveVisitor>(outputs: Int, _ visitor: Visitor) throws
    -> Visitor.Result
  {
    switch (self, outputs) {
    case (.softmax, _): try visitor.visit(Softmax(classes: outputs))
    case (.squared, _): try visitor.visit(Single(SquaredLoss()))
    case (.logistic, 1): try visitor.visit(Single(LogisticLoss()))
    case (.hinge, 1): try visitor.visit(Single(HingeLoss()))
    case (.modifiedHuber, 1): try visitor.visit(Single(ModifiedHuberLoss()))
    case (.logistic, _): try visitor.visit(OneVsRest(LogisticLoss(), classes: outputs))
    case (.hinge, _): try visitor.visit(OneVsRest(HingeLoss(), classes: outputs))
    case (.modifiedHuber, _): try visitor.visit(OneVsRest(ModifiedHuberLoss(), classes: outputs))
    }
  }
}
