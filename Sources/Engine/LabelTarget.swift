import Dataset
import Learning

/// What a run's labels ask for, read from the training labels once: the
/// loss and output count, and how each label becomes the number the loss
/// takes.
///
/// - Regression (squared loss): labels as they are, one output.
/// - Two classes, any two distinct labels (−1/+1, 0/1, 1/2, the ids of two
///   names), and no softmax asked for: one output; the larger label is the
///   positive class (+1), the smaller the negative (−1), and both are kept
///   (``classes``, smaller first) so predictions come back as they were given.
/// - More classes, or `--loss softmax`: one output per class. The classes
///   are the distinct labels in ascending order, whole numbers each; a
///   label becomes its class's index `0..<K`. Logistic loss becomes
///   softmax unless one-vs-rest is asked for; hinge and modified Huber are
///   trained one-vs-rest.
struct LabelTarget {
  /// The most classes a model may have.
  static let maximumClasses = 65_535
  /// The fewest rows a class a classifier is trained on, on average.
  static let minimumRowsPerClass = 5

  let loss: Loss
  let outputs: Int
  /// The label of each class index: K labels for multiclass, two (negative,
  /// positive) for binary classification; `nil` for regression.
  let classes: [Float]?

  /// Reads `rows`' labels and decides, or says why the labels and the
  /// configuration do not fit.
  init(_ rows: RowBlock, configuration: TrainingConfiguration) throws(TrainingError) {
    let requested = configuration.problem.loss
    if requested.isClassification, let given = configuration.problem.classes {
      try self.init(rows, classes: given, configuration: configuration)
      return
    }
    // Checked rows have finite labels: regression takes them as they are.
    guard requested.isClassification else {
      self.init(loss: .squared, outputs: 1, classes: nil)
      return
    }
    var distinct = Set<Float>()
    // The last two labels seen: most rows repeat one of them, and skip
    // hashing; a block of rows that holds no other label is skipped whole.
    // Class indices (whole labels in 0..<1024) are marked in a bitmap
    // instead of hashed (with ten classes, hashing cost 30 ns a row).
    var recent: (Float, Float) = (.nan, .nan)
    var indices = [UInt64](repeating: 0, count: 16)
    var indexCount = 0
    let labels = UnsafeBufferPointer(start: rows.labels, count: rows.count)
    for block in stride(from: 0, to: rows.count, by: Self.scanBlock) {
      let end = min(block + Self.scanBlock, rows.count)
      if Self.holdsOnly(recent.0, recent.1, UnsafeBufferPointer(rebasing: labels[block..<end])) { continue }
      for row in block..<end {
        let y = labels[row]
        guard y != recent.0, y != recent.1 else { continue }
        recent = (y, recent.0)
        if let k = Int(exactly: y), k >= 0, k < 1024 {
          let bit: UInt64 = 1 << (k & 63)
          if indices[k >> 6] & bit == 0 { indexCount += 1 }
          indices[k >> 6] |= bit
        } else {
          distinct.insert(y)
        }
        guard distinct.count + indexCount <= Self.maximumClasses else {
          throw .labelsDoNotFitLoss(
            "the labels take more than \(Self.maximumClasses) distinct values (row \(row + 1) adds one); a classifier has at most \(Self.maximumClasses) classes, so use squared loss for regression"
          )
        }
      }
    }
    for k in 0..<1024 where indices[k >> 6] & (1 << (k & 63)) != 0 { distinct.insert(Float(k)) }
    let values = distinct.sorted()
    try self.init(classes: values, rows: rows.count, configuration: configuration)
  }

  private init(loss: Loss, outputs: Int, classes: [Float]?) {
    self.loss = loss
    self.outputs = outputs
    self.classes = classes
  }

  /// Classes known beforehand (``TrainingConfiguration/Problem/classes``):
  /// every label must be one of them; rows need not hold all.
  private init(_ rows: RowBlock, classes given: [Float], configuration: TrainingConfiguration)
    throws(TrainingError)
  {
    let known = Set(given)
    for row in 0..<rows.count where !known.contains(rows.label(row)) {
      throw .labelsDoNotFitLoss(
        "row \(row + 1) has the label \(LinearModel.labelText(rows.label(row))), which is not one of the classes given ("
          + given.sorted().map(LinearModel.labelText).joined(separator: ", ") + ")")
    }
    try self.init(classes: given.sorted(), rows: nil, configuration: configuration)
  }

  /// A classifier of the ascending, distinct `values`; `rows` (when the
  /// classes came from them) bounds how many classes they can teach.
  private init(classes values: [Float], rows: Int?, configuration: TrainingConfiguration)
    throws(TrainingError)
  {
    let requested = configuration.problem.loss
    guard values.count >= 2 else {
      throw .labelsDoNotFitLoss(
        "a classifier needs at least two classes, but every training label is \(values.first.map(LinearModel.labelText) ?? "missing")"
      )
    }
    if values.count == 2, requested != .softmax {
      (loss, outputs, classes) = (requested, 1, values)
      return
    }
    // A classifier needs several rows a class to learn anything; labels with
    // fewer are almost surely a regression target (diabetes' 214 values in 442 rows).
    if let rows, values.count * Self.minimumRowsPerClass > rows {
      throw .labelsDoNotFitLoss(
        "\(requested.rawValue) loss: the labels take \(values.count) distinct values in \(rows) rows, fewer than \(Self.minimumRowsPerClass) rows a class; for regression use squared loss"
      )
    }
    if let fraction = values.first(where: { $0 != $0.rounded() }) {
      throw .labelsDoNotFitLoss(
        "multiclass classification needs whole-number class labels, found \(LinearModel.labelText(fraction)); use squared loss for regression"
      )
    }
    // validate() has refused softmax with ovr, and softmax with another loss.
    loss = requested == .logistic && configuration.problem.multiclass != .ovr ? .softmax : requested
    outputs = values.count
    classes = values
  }

  /// Writes each row's label in the loss's terms to `labels`; `what` names
  /// the rows in errors (labels of another split may hold a class the
  /// training labels lack).
  func convert(_ rows: RowBlock, into labels: UnsafeMutableBufferPointer<Float>, what: String)
    throws(TrainingError)
  {
    if outputs == 1, let classes {
      try convertBinary(rows, classes: classes, into: labels, what: what)
      return
    }
    let index = classes.map(ClassIndex.init)
    for row in 0..<rows.count {
      let y = rows.label(row)
      guard y.isFinite else {
        throw .labelsDoNotFitLoss(
          "row \(row + 1) of \(what) has the label \(y); labels must be finite numbers")
      }
      switch (loss.isClassification, index) {
      case (false, _): labels[row] = y
      case (true, nil):
        guard y == 1 || y == -1 || y == 0 else {
          throw .labelsDoNotFitLoss(
            "row \(row + 1) of \(what) has the label \(LinearModel.labelText(y)), which the training labels do not have"
          )
        }
        labels[row] = y > 0 ? 1 : -1
      case (true, let index?):
        guard let k = index(y) else {
          throw .labelsDoNotFitLoss(
            "row \(row + 1) of \(what) has the class \(LinearModel.labelText(y)), which the training labels do not have"
          )
        }
        labels[row] = Float(k)
      }
    }
  }

  /// Binary labels as ±1: the positive class (`classes[1]`) +1, the negative
  /// −1. Trained on −1/+1 or 0/1, the other data may use either convention.
  private func convertBinary(
    _ rows: RowBlock, classes: [Float], into labels: UnsafeMutableBufferPointer<Float>, what: String
  ) throws(TrainingError) {
    let (negative, positive) = (classes[0], classes[1])
    let conventional = classes == [0, 1] || classes == [-1, 1]
    let given = UnsafeBufferPointer(start: rows.labels, count: rows.count)
    // Blocks that hold only the two classes' own bit patterns are written
    // without a branch a row; any other block goes row by row below.
    let positiveBits = positive.bitPattern
    for block in stride(from: 0, to: rows.count, by: Self.scanBlock) {
      let end = min(block + Self.scanBlock, rows.count)
      guard !Self.holdsOnly(negative, positive, UnsafeBufferPointer(rebasing: given[block..<end])) else {
        for row in block..<end { labels[row] = given[row].bitPattern == positiveBits ? 1 : -1 }
        continue
      }
      try convertBinary(
        given, block..<end, negative: negative, positive: positive, conventional: conventional,
        into: labels, what: what)
    }
  }

  /// ``convertBinary(_:classes:into:what:)`` for `range`, row by row.
  private func convertBinary(
    _ given: UnsafeBufferPointer<Float>, _ range: Range<Int>, negative: Float, positive: Float,
    conventional: Bool, into labels: UnsafeMutableBufferPointer<Float>, what: String
  ) throws(TrainingError) {
    for row in range {
      let y = given[row]
      if y == positive {
        labels[row] = 1
      } else if y == negative {
        labels[row] = -1
      } else if conventional, y == -1 || y == 0 || y == 1 {
        labels[row] = y > 0 ? 1 : -1
      } else {
        throw .labelsDoNotFitLoss(
          "row \(row + 1) of \(what) has the label \(LinearModel.labelText(y)), which the training labels (\(LinearModel.labelText(negative)) and \(LinearModel.labelText(positive))) do not have"
        )
      }
    }
  }

  /// Labels scanned a block at a time (16 KB of them, in the L1 cache).
  private static let scanBlock = 4096

  /// Whether every label in `labels` has the bit pattern of `a` or of `b`
  /// (so equals one of them). No branch a label: the loop vectorises, and a
  /// block of two classes is read at memory speed (NaN patterns never match).
  private static func holdsOnly(_ a: Float, _ b: Float, _ labels: UnsafeBufferPointer<Float>) -> Bool {
    let (a, b) = (a.bitPattern, b.bitPattern)
    var others: UInt32 = 0
    for y in labels {
      let bits = y.bitPattern
      others |= (bits == a ? 0 : 1) & (bits == b ? 0 : 1)
    }
    return others == 0
  }
}
