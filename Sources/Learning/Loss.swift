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

  /// The most the loss's second derivative with respect to a margin reaches
  /// (softmax: of one margin), as a number and as the log writes it: ¼ for
  /// logistic, ½ for softmax, 1 for squared (and hinge, taken as smooth), 2
  /// for modified Huber. With the rows' squared norms it bounds the
  /// objective's curvature.
  public var curvatureBound: (value: Double, text: String) {
    switch self {
    case .logistic: (0.25, "¼")
    case .softmax: (0.5, "½")
    case .squared, .hinge: (1, "1")
    case .modifiedHuber: (2, "2")
    }
  }
}

/// How a binary loss serves more than two classes.
public enum Multiclass: String, Sendable, Codable, CaseIterable {
  /// One softmax over K outputs (multinomial logistic regression); logistic
  /// loss only.
  case softmax
  /// K binary problems, class k against the rest; the largest margin wins.
  case ovr
}
