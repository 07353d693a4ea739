import Dataset
import Learning

/// Rows ready for training: labels in the loss's terms, rows split into
/// training and validation, and features standardised when asked.
///
/// Holds the memory of any copy it made (standardised features, converted
/// labels) for as long as training uses the ``rows`` block, and never writes
/// it after `init`: sharing it between workers is read-only, hence Sendable.
final class TrainingSet: @unchecked Sendable {
  /// The rows, with features possibly standardised and labels converted.
  let rows: RowBlock
  /// Rows used for training, ascending.
  let training: [Int32]
  /// The rows validation reads: the source rows (raw features, converted
  /// labels) for a holdout, or a separate test set.
  let validationRows: RowBlock
  /// Rows of ``validationRows`` to validate on, ascending.
  let validation: [Int32]
  /// The scaling applied to the features, if any.
  let scaler: FeatureScaler?
  /// Rows per shuffled block (see ``RowOrder``).
  var blockRows: Int {
    let bytesPerRow = rows.layout == .dense ? rows.columns * 4 : rows.nonZeros * 8 / max(rows.count, 1)
    return RowOrder.blockRows(bytesPerRow: bytesPerRow, rows: training.count)
  }
  private let ownedFeatures: UnsafeMutableBufferPointer<Float>?
  private let ownedLabels: UnsafeMutableBufferPointer<Float>
  private let ownedTestLabels: UnsafeMutableBufferPointer<Float>?
  private let ownedWeights: UnsafeMutableBufferPointer<Float>?

  /// Prepares `source` for training; validation uses `test` when given,
  /// otherwise the configuration's holdout share of `source`.
  init(rows source: RowBlock, test: RowBlock?, configuration: TrainingConfiguration) throws(TrainingError) {
    guard source.count > 0 else { throw .noTrainingRows }
    if let test, test.columns > source.columns || (source.layout == .dense && test.columns != source.columns)
    {
      throw .invalidConfiguration(
        "the test data has \(test.columns) features but the training data \(source.columns); they must match")
    }
    let labels = UnsafeMutableBufferPointer<Float>.allocate(capacity: source.count)
    let testLabels = test.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: max($0.count, 1)) }
    do {
      try Self.convertLabels(source, for: configuration.loss, into: labels)
      if let test, let testLabels { try Self.convertLabels(test, for: configuration.loss, into: testLabels) }
    } catch {
      labels.deallocate()
      testLabels?.deallocate()
      throw error
    }
    ownedLabels = labels
    ownedWeights =
      configuration.classWeight == .balanced && configuration.loss.isClassification
      ? Self.balancedWeights(source, labels: labels) : nil
    ownedTestLabels = testLabels

    var features: UnsafePointer<Float> = source.features
    if configuration.standardize {
      let (copy, scaler) = Self.standardized(source)
      ownedFeatures = copy
      self.scaler = scaler
      features = UnsafePointer(copy.baseAddress!)
    } else {
      ownedFeatures = nil
      scaler = nil
    }
    rows = RowBlock(
      count: source.count, columns: source.columns, layout: source.layout, features: features,
      offsets: source.offsets, indices: source.indices, labels: UnsafePointer(labels.baseAddress!),
      weights: ownedWeights.map { UnsafePointer($0.baseAddress!) } ?? source.weights)

    var training: [Int32] = []
    var validation: [Int32] = []
    training.reserveCapacity(source.count)
    for row in 0..<source.count {
      if configuration.isHeldOut(row) { validation.append(Int32(row)) } else { training.append(Int32(row)) }
    }
    guard !training.isEmpty else { throw .noTrainingRows }
    self.training = training
    if let test, let testLabels {
      validationRows = Self.relabeled(test, testLabels)
      self.validation = (0..<test.count).map(Int32.init)
    } else {
      validationRows = Self.relabeled(source, labels)
      self.validation = validation
    }
  }

  /// `rows` with its labels replaced.
  private static func relabeled(_ rows: RowBlock, _ labels: UnsafeMutableBufferPointer<Float>) -> RowBlock {
    RowBlock(
      count: rows.count, columns: rows.columns, layout: rows.layout, features: rows.features,
      offsets: rows.offsets,
      indices: rows.indices, labels: UnsafePointer(labels.baseAddress!), weights: rows.weights)
  }

  deinit {
    ownedTestLabels?.deallocate()
    ownedWeights?.deallocate()
    ownedLabels.deallocate()
    ownedFeatures?.deallocate()
  }

  /// Row weights times `n / (2 nᵢ)` for a row of class `i` with `nᵢ` rows
  /// (scikit-learn's "balanced"), so both classes weigh the same in total.
  private static func balancedWeights(_ rows: RowBlock, labels: UnsafeMutableBufferPointer<Float>)
    -> UnsafeMutableBufferPointer<Float>
  {
    let positives = labels.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
    let negatives = rows.count - positives
    let n = Float(rows.count)
    let positive = positives > 0 ? n / (2 * Float(positives)) : 1
    let negative = negatives > 0 ? n / (2 * Float(negatives)) : 1
    let weights = UnsafeMutableBufferPointer<Float>.allocate(capacity: rows.count)
    for row in 0..<rows.count { weights[row] = rows.weight(row) * (labels[row] > 0 ? positive : negative) }
    return weights
  }

  /// Copies labels, as ±1 for classification losses (0/1 and −1/+1 both
  /// accepted), as they are for regression.
  private static func convertLabels(
    _ rows: RowBlock, for loss: Loss, into labels: UnsafeMutableBufferPointer<Float>
  ) throws(TrainingError) {
    var distinct = Set<Float>()
    for row in 0..<rows.count {
      let y = rows.label(row)
      guard y.isFinite else {
        throw .labelsDoNotFitLoss("row \(row + 1) has the label \(y); labels must be finite numbers")
      }
      if loss.isClassification, distinct.count <= 2 { distinct.insert(y) }
      labels[row] = y
    }
    guard loss.isClassification else { return }
    let values = distinct.sorted()
    guard values.count <= 2 else {
      throw .labelsDoNotFitLoss(
        "\(loss.rawValue) loss needs two classes, but the labels take more values (\(values.map { "\($0)" }.joined(separator: ", ")), …); use squared loss for regression"
      )
    }
    guard Set(values).isSubset(of: [-1, 1]) || Set(values).isSubset(of: [0, 1]) else {
      throw .labelsDoNotFitLoss(
        "\(loss.rawValue) loss needs labels −1/+1 or 0/1, found \(values.map { "\($0)" }.joined(separator: " and "))"
      )
    }
    for row in 0..<rows.count { labels[row] = labels[row] > 0 ? 1 : -1 }
  }

  /// A standardised copy of the features and the scaler that made it: dense
  /// columns get mean 0 and variance 1; sparse columns are only divided by
  /// their standard deviation, so that zeros stay zeros.
  private static func standardized(_ rows: RowBlock) -> (UnsafeMutableBufferPointer<Float>, FeatureScaler) {
    let columns = rows.columns
    var sums = [Double](repeating: 0, count: columns)
    var squares = [Double](repeating: 0, count: columns)
    let values = rows.nonZeros
    let copy = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(values, 1))
    let stored = UnsafeBufferPointer(start: rows.features, count: values)
    for row in 0..<rows.count {
      switch rows.layout {
      case .dense:
        for (j, x) in rows.denseRow(row).enumerated() {
          sums[j] += Double(x)
          squares[j] += Double(x) * Double(x)
        }
      case .csr:
        let sparse = rows.sparseRow(row)
        for (j, x) in zip(sparse.indices, sparse.values) {
          sums[Int(j)] += Double(x)
          squares[Int(j)] += Double(x) * Double(x)
        }
      }
    }
    let n = Double(rows.count)
    let means = sums.map { $0 / n }
    let scales = zip(means, squares).map { mean, square -> Double in
      let deviation = (max(square / n - mean * mean, 0)).squareRoot()
      return deviation > 1e-12 ? deviation : 1
    }
    switch rows.layout {
    case .dense:
      for row in 0..<rows.count {
        for j in 0..<columns {
          let index = row * columns + j
          copy[index] = Float((Double(stored[index]) - means[j]) / scales[j])
        }
      }
      return (copy, FeatureScaler(means: means.map(Float.init), scales: scales.map(Float.init)))
    case .csr:
      let indices = UnsafeBufferPointer(start: rows.indices, count: values)
      for k in 0..<values { copy[k] = Float(Double(stored[k]) / scales[Int(indices[k])]) }
      return (copy, FeatureScaler(means: Array(repeating: 0, count: columns), scales: scales.map(Float.init)))
    }
  }
}
