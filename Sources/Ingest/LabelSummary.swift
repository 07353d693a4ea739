import Dataset

/// What a run of labels looked like, to tell regression from binary and
/// multi-class data. Summaries of consecutive pieces merge in order.
struct LabelSummary: Sendable, Equatable {
  /// Every label was −1 or +1.
  var allPlusMinusOne = true
  /// Every label was 0 or 1.
  var allZeroOne = true
  /// Every label was a whole number ≥ 0.
  var allClassIndices = true

  /// Takes `label` into account.
  @inline(__always)
  mutating func add(_ label: Float) {
    allPlusMinusOne = allPlusMinusOne && (label == 1 || label == -1)
    allZeroOne = allZeroOne && (label == 0 || label == 1)
    allClassIndices = allClassIndices && label >= 0 && label == label.rounded() && label < 16_777_216
  }

  /// Takes another run's labels into account.
  mutating func merge(_ other: LabelSummary) {
    allPlusMinusOne = allPlusMinusOne && other.allPlusMinusOne
    allZeroOne = allZeroOne && other.allZeroOne
    allClassIndices = allClassIndices && other.allClassIndices
  }

  /// The kind these labels suggest: binary for −1/+1 or 0/1, class indices
  /// for other whole numbers ≥ 0, real otherwise.
  var detected: LabelKind {
    if allPlusMinusOne || allZeroOne { return .binary }
    return allClassIndices ? .classIndex : .real
  }

  /// Whether the labels can be of `kind`; if not, what was wrong.
  func check(_ kind: LabelKind) -> String? {
    switch kind {
    case .real, .none: return nil
    case .binary:
      return allPlusMinusOne || allZeroOne
        ? nil : "binary labels must all be -1/+1 or all be 0/1, found other values or a mix"
    case .classIndex:
      return allClassIndices ? nil : "class labels must be whole numbers from 0, found other values"
    }
  }
}
