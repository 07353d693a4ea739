import Dataset
import Kernels
import Learning

extension LinearModel {
  /// Why a model cannot be applied to some data.
  public struct FeatureMismatch: Error, Equatable, Sendable, CustomStringConvertible {
    public var modelFeatures: Int
    public var dataFeatures: Int
    public var description: String {
      "the model was trained on \(modelFeatures) features but the data has \(dataFeatures)"
    }
  }

  /// Checks that the model can read `rows`: dense rows need exactly its
  /// feature count; sparse rows may have fewer columns (missing ones are 0).
  public func check(_ rows: RowBlock) throws(FeatureMismatch) {
    let fits = rows.layout == .dense ? rows.columns == features : rows.columns <= features
    guard fits else { throw FeatureMismatch(modelFeatures: features, dataFeatures: rows.columns) }
  }

  /// `w · x + b` for every row of `rows` (or for the rows listed in `subset`).
  public func margins(_ rows: RowBlock, rows subset: [Int]? = nil) -> [Float] {
    precondition(
      rows.layout == .csr ? rows.columns <= features : rows.columns == features, "call check(_:) first")
    return weights.withUnsafeBufferPointer { w in
      (subset ?? Array(0..<rows.count)).map { row in
        switch rows.layout {
        case .dense: return Dense.dot(rows.denseRow(row), w) + bias
        case .csr:
          let x = rows.sparseRow(row)
          return Sparse.dot(indices: x.indices, values: x.values, model: w) + bias
        }
      }
    }
  }

  /// Predictions (see ``prediction(margin:)``) for every row of `rows`.
  public func predictions(_ rows: RowBlock, rows subset: [Int]? = nil) -> [Float] {
    margins(rows, rows: subset).map(prediction(margin:))
  }

  /// Quality metrics on `rows` (or the listed `subset`): regression metrics
  /// for squared loss, classification metrics (labels ±1 or 0/1) otherwise.
  public func evaluate(_ rows: RowBlock, rows subset: [Int]? = nil) -> Metrics {
    let chosen = subset ?? Array(0..<rows.count)
    let scores = margins(rows, rows: chosen)
    let labels = chosen.map { rows.label($0) }
    guard loss.isClassification else {
      return Metrics.regression(predictions: scores, labels: labels)
    }
    let probabilities = loss == .hinge ? nil : scores.map(prediction(margin:))
    return Metrics.classification(
      scores: scores, labels: labels.map { $0 > 0 ? 1 : -1 }, probabilities: probabilities)
  }
}
