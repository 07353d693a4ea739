/// The losses a model can be trained with, by name, for configurations and
/// model files. Training code calls ``visit(outputs:_:)`` once, outside its
/// loops, to reach generic code with a concrete ``OutputObjective`` the
/// compiler specialises.
public enum Loss: String, Sendable, Codable, CaseIterable {
  /// ½(m − y)², regression (mean squared error).
  case squared
  /// log(1 + e^(−y m)), binary classification with probabilities.
  case logistic
  /// max(0, 1 − y m), linear SVM.
  case hinge
  /// Smoothed hinge, robust binary classification with probabilities.
  case modifiedHuber = "modified-huber"
  /// −m_c + log Σₖ e^(mₖ), multiclass classification with probabilities
  /// (multinomial logistic regression, ``Softmax``).
  case softmax

  /// Whether labels are classes (every loss but squared).
  public var isClassification: Bool { self != .squared }
}

/// How a binary loss serves more than two classes.
public enum Multiclass: String, Sendable, Codable, CaseIterable {
  /// One softmax over K outputs (multinomial logistic regression); logistic
  /// loss only.
  case softmax
  /// K binary problems, class k against the rest; the largest margin wins.
  case ovr
}
