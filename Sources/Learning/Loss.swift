/// The losses a model can be trained with, by name, for configurations and
/// model files. Training code calls ``visit(_:)`` once, outside its loops, to
/// reach generic code with a concrete ``Objective`` the compiler specialises.
public enum Loss: String, Sendable, Codable, CaseIterable {
  /// ½(m − y)², regression (mean squared error).
  case squared
  /// log(1 + e^(−y m)), binary classification with probabilities.
  case logistic
  /// max(0, 1 − y m), linear SVM.
  case hinge
  /// Smoothed hinge, robust binary classification with probabilities.
  case modifiedHuber = "modified-huber"

  /// Whether labels are classes ±1 (every loss but squared).
  public var isClassification: Bool { self != .squared }

  /// Calls `visitor.visit` with this loss's objective as a concrete type.
  @inlinable
  public func visit<Visitor: ObjectiveVisitor>(_ visitor: Visitor) throws -> Visitor.Result {
    switch self {
    case .squared: try visitor.visit(SquaredLoss())
    case .logistic: try visitor.visit(LogisticLoss())
    case .hinge: try visitor.visit(HingeLoss())
    case .modifiedHuber: try visitor.visit(ModifiedHuberLoss())
    }
  }
}

/// Generic code that runs with a concrete objective: the way from a ``Loss``
/// chosen at run time to a loop specialised for it (closures cannot be
/// generic, so a protocol with a generic method carries the type).
public protocol ObjectiveVisitor {
  /// What the visit produces.
  associatedtype Result
  /// Runs with `objective` as its concrete type.
  func visit<O: Objective>(_ objective: O) throws -> Result
}
