import Dataset
import Dispatch
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

  /// A label in the data that a multiclass model has no class for.
  public struct UnknownLabel: Error, Equatable, Sendable, CustomStringConvertible {
    /// The row (from 1) and its label.
    public var row: Int
    public var label: Float
    /// The labels the model knows.
    public var classes: [Float]
    public var description: String {
      "row \(row) has the label \(LinearModel.labelText(label)), which is not one of the model's classes ("
        + classes.map(LinearModel.labelText).joined(separator: ", ") + ")"
    }
  }

  /// Checks that the model can read `rows`: dense rows need exactly its
  /// feature count; sparse rows may have fewer columns (missing ones are 0).
  public func check(_ rows: CheckedRows) throws(FeatureMismatch) {
    let rows = rows.block
    let fits = rows.layout == .dense ? rows.columns == features : rows.columns <= features
    guard fits else { throw FeatureMismatch(modelFeatures: features, dataFeatures: rows.columns) }
  }

  /// The K margins `Wᵀx + b` of every row of `rows` (or of the rows listed
  /// in `subset`), row after row: `count × outputs` floats. Rows are shared
  /// out over the cores in contiguous chunks, each writing its own margins.
  public func margins(_ rows: CheckedRows, rows subset: [Int]? = nil) -> [Float] {
    let rows = rows.block
    precondition(
      rows.layout == .csr ? rows.columns <= features : rows.columns == features, "call check(_:) first")
    let chosen = subset ?? Array(0..<rows.count)
    var margins = [Float](repeating: 0, count: chosen.count * outputs)
    let outputs = self.outputs
    // Chunks of at least 16,384 rows: below that, threads cost more than they save.
    let chunks = max(1, min(ProcessInfoCores.count * 4, chosen.count / 16_384))
    margins.withUnsafeMutableBufferPointer { m in
      // Each chunk writes only its own positions' margins.
      nonisolated(unsafe) let base = m.baseAddress!
      DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        for position in (chosen.count * chunk / chunks)..<(chosen.count * (chunk + 1) / chunks) {
          let row = chosen[position]
          let into = base + position * outputs
          switch rows.layout {
          case .dense: self.margins(dense: rows.denseRow(row), into: into)
          case .csr:
            let x = rows.sparseRow(row)
            self.margins(indices: x.indices, values: x.values, into: into)
          }
        }
      }
    }
    return margins
  }

  /// ``prediction(margin:)`` of every margin of a one-output model, in
  /// chunks over the cores.
  func predictions(margins: [Float]) -> [Float] {
    var values = [Float](repeating: 0, count: margins.count)
    let chunks = min(64, max(1, margins.count / 65_536))
    values.withUnsafeMutableBufferPointer { buffer in
      // Each chunk writes only its own positions.
      nonisolated(unsafe) let base = buffer.baseAddress!
      DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        for i in (margins.count * chunk / chunks)..<(margins.count * (chunk + 1) / chunks) {
          base[i] = prediction(margin: margins[i])
        }
      }
    }
    return values
  }

  /// One prediction per row, in the training data's terms: for regression
  /// the value; for a classifier the predicted class's label (``classes``:
  /// a binary model's two labels, or K). A binary model saved before labels
  /// were kept predicts P(positive) (logistic, modified Huber) or ±1 (hinge),
  /// as ``prediction(margin:)``.
  public func predictions(_ rows: CheckedRows, rows subset: [Int]? = nil) -> [Float] {
    let margins = margins(rows, rows: subset)
    if binaryClasses != nil { return margins.map(binaryLabel(margin:)) }
    guard isMulticlass else { return predictions(margins: margins) }
    let labels = classes ?? (0..<outputs).map(Float.init)
    return margins.withUnsafeBufferPointer { m in
      (0..<margins.count / outputs).map { labels[predictedClass(margins: m.baseAddress! + $0 * outputs)] }
    }
  }

  /// The class probabilities of every row, row after row, for a classifier
  /// with probabilities (``hasProbabilities``): K for a multiclass model, two
  /// for a binary one (the negative class's, then the positive's).
  public func probabilities(_ rows: CheckedRows, rows subset: [Int]? = nil) -> [Float] {
    guard isMulticlass else {
      let positive = predictions(margins: margins(rows, rows: subset))
      var pairs = [Float](repeating: 0, count: positive.count * 2)
      for (row, p) in positive.enumerated() { (pairs[2 * row], pairs[2 * row + 1]) = (1 - p, p) }
      return pairs
    }
    var values = margins(rows, rows: subset)
    values.withUnsafeMutableBufferPointer { m in
      for start in stride(from: 0, to: m.count, by: outputs) { probabilities(m.baseAddress! + start) }
    }
    return values
  }

  /// Quality metrics on `rows` (or the listed `subset`): regression metrics
  /// for squared loss, binary classification metrics for one output (labels
  /// the model's two classes, or ±1 or 0/1), multiclass metrics for several
  /// (labels as in ``classes``).
  public func evaluate(_ rows: CheckedRows, rows subset: [Int]? = nil) throws(UnknownLabel) -> Metrics {
    let chosen = subset ?? Array(0..<rows.block.count)
    let labels = chosen.map { rows.block.label($0) }
    guard isMulticlass else {
      let scores = margins(rows, rows: chosen)
      guard loss.isClassification else { return Metrics.regression(predictions: scores, labels: labels) }
      let probabilities = hasProbabilities ? predictions(margins: scores) : nil
      var signs = [Float](repeating: 0, count: labels.count)
      let (negative, positive) = binaryClasses ?? (-1, 1)
      let conventional = [negative, positive] == [0, 1] || [negative, positive] == [-1, 1]
      for (position, label) in labels.enumerated() {
        if label == positive || label == negative {
          signs[position] = label == positive ? 1 : -1
        } else if conventional, label == -1 || label == 0 || label == 1 {
          signs[position] = label > 0 ? 1 : -1
        } else {
          throw UnknownLabel(row: chosen[position] + 1, label: label, classes: [negative, positive])
        }
      }
      return Metrics.classification(scores: scores, labels: signs, probabilities: probabilities)
    }
    let known = classes ?? (0..<outputs).map(Float.init)
    let index = Dictionary(uniqueKeysWithValues: known.enumerated().map { ($1, $0) })
    var truth: [Int] = []
    truth.reserveCapacity(labels.count)
    for (row, label) in zip(chosen, labels) {
      guard let k = index[label] else { throw UnknownLabel(row: row + 1, label: label, classes: known) }
      truth.append(k)
    }
    let margins = margins(rows, rows: chosen)
    let predicted = margins.withUnsafeBufferPointer { m in
      (0..<chosen.count).map { predictedClass(margins: m.baseAddress! + $0 * outputs) }
    }
    return Metrics.multiclass(
      predicted: predicted, truth: truth,
      probabilities: hasProbabilities ? probabilities(rows, rows: chosen) : nil,
      classes: classNames ?? known.map(LinearModel.labelText))
  }
}
