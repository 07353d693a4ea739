import Dataset
import Dispatch
import Kernels
import Learning
import Synchronization

/// What a prediction gives for each row (``LinearModel/width(of:)`` floats).
public enum PredictionOutput: Sendable {
  /// The K margins `Wᵀx + b`.
  case margins
  /// One prediction in the training data's terms (see ``LinearModel/predictions(_:rows:)``).
  case labels
  /// The class probabilities (see ``LinearModel/probabilities(_:rows:)``).
  case probabilities
}

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
  public func check(_ rows: CheckedRows) throws(FeatureMismatch) { try check(rows.block) }

  /// The same check for rows whose values are not yet checked.
  public func check(_ rows: ReadableRows) throws(FeatureMismatch) { try check(rows.block) }

  private func check(_ rows: RowBlock) throws(FeatureMismatch) {
    let fits = rows.layout == .dense ? rows.columns == features : rows.columns <= features
    guard fits else { throw FeatureMismatch(modelFeatures: features, dataFeatures: rows.columns) }
  }

  /// Row `row`'s K margins, dense or sparse, from the model's buffers `w`
  /// and `b` (see ``margins(dense:weights:intercepts:into:)``): what every
  /// pass over the rows (predictions, metrics) makes a row.
  @inline(__always)
  static func margins(
    of row: Int, in rows: RowBlock, weights w: UnsafeBufferPointer<Float>,
    intercepts b: UnsafeBufferPointer<Float>,
    into m: UnsafeMutablePointer<Float>
  ) {
    switch rows.layout {
    case .dense: margins(dense: rows.denseRow(row), weights: w, intercepts: b, into: m)
    case .csr:
      let x = rows.sparseRow(row)
      margins(indices: x.indices, values: x.values, weights: w, intercepts: b, into: m)
    }
  }

  /// Floats per row of `output`: K margins, one label, or K probabilities
  /// (two for a binary model).
  public func width(of output: PredictionOutput) -> Int {
    switch output {
    case .margins: outputs
    case .labels: 1
    case .probabilities: isMulticlass ? outputs : 2
    }
  }

  /// `output` for every row of `rows` into `out` (`count × width(of:)`
  /// floats), reading each value once: the values are checked through the
  /// margins they make (see ``ReadableRows``). Throws the error
  /// ``ReadableRows/checked(threads:)`` would for the first row with a value
  /// that is not finite; `out` then holds what the other rows gave. A row of
  /// finite values whose margins overflow is no error. Call
  /// ``check(_:)-(ReadableRows)`` first.
  public func predict(
    _ rows: ReadableRows, _ output: PredictionOutput, into out: UnsafeMutableBufferPointer<Float>
  ) throws(DatasetError) {
    precondition(out.count >= rows.block.count * width(of: output), "room for every row's output")
    guard rows.block.count > 0 else { return }
    for row in fill(rows.block, rows: nil, output, into: out.baseAddress!, watching: true) {
      if let problem = rows.firstProblem(inRow: row) { throw problem }
    }
  }

  /// The K margins `Wᵀx + b` of every row of `rows` (or of the rows listed
  /// in `subset`), row after row: `count × outputs` floats.
  public func margins(_ rows: CheckedRows, rows subset: [Int]? = nil) -> [Float] {
    filled(rows, rows: subset, .margins)
  }

  /// One prediction per row, in the training data's terms: for regression
  /// the value; for a classifier the predicted class's label (``classes``:
  /// a binary model's two labels, or K). A binary model saved before labels
  /// were kept predicts P(positive) (logistic, modified Huber) or ±1 (hinge),
  /// as ``prediction(margin:)``.
  public func predictions(_ rows: CheckedRows, rows subset: [Int]? = nil) -> [Float] {
    filled(rows, rows: subset, .labels)
  }

  /// The class probabilities of every row, row after row, for a classifier
  /// with probabilities (``hasProbabilities``): K for a multiclass model, two
  /// for a binary one (the negative class's, then the positive's).
  public func probabilities(_ rows: CheckedRows, rows subset: [Int]? = nil) -> [Float] {
    filled(rows, rows: subset, .probabilities)
  }

  /// ``fill(_:rows:_:into:watching:)`` into a new array.
  private func filled(_ rows: CheckedRows, rows subset: [Int]?, _ output: PredictionOutput) -> [Float] {
    let count = (subset?.count ?? rows.block.count) * width(of: output)
    guard count > 0 else { return [] }
    return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      _ = fill(rows.block, rows: subset, output, into: buffer.baseAddress!, watching: false)
      initialized = count
    }
  }

  /// `output` for the rows of `rows` (or those listed in `subset`) into
  /// `out`, row after row. Rows are shared out over the cores in contiguous
  /// chunks, each writing its own rows' outputs; a row's margins are made,
  /// then turned into the output while they are in registers. With
  /// `watching`, returns the rows (ascending) whose margins are not all
  /// finite.
  private func fill(
    _ rows: RowBlock, rows subset: [Int]?, _ output: PredictionOutput, into out: UnsafeMutablePointer<Float>,
    watching: Bool
  ) -> [Int] {
    precondition(
      rows.layout == .csr ? rows.columns <= features : rows.columns == features, "call check(_:) first")
    let count = subset?.count ?? rows.count
    let width = width(of: output)
    let outputs = self.outputs
    // The margins go straight to `out` when they are the output or become it in place.
    let inPlace = output == .margins || (output == .probabilities && isMulticlass)
    let labels = classes ?? (0..<outputs).map(Float.init)
    // Chunks of at least 16,384 rows: below that, threads cost more than they save.
    let chunks = max(1, min(ProcessInfoCores.count * 4, count / 16_384))
    let suspects = Mutex<[Int]>([])
    // Each chunk writes only its own rows' outputs.
    nonisolated(unsafe) let base = out
    // The model's buffers, read by every chunk while the arrays are held here.
    weights.withUnsafeBufferPointer { weights in
      intercepts.withUnsafeBufferPointer { intercepts in
        nonisolated(unsafe) let w = weights
        nonisolated(unsafe) let b = intercepts
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
          withUnsafeTemporaryAllocation(of: Float.self, capacity: outputs) { scratch in
            var found: [Int] = []
            for position in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) {
              let row = subset?[position] ?? position
              let into = base + position * width
              let m = inPlace ? into : scratch.baseAddress!
              Self.margins(of: row, in: rows, weights: w, intercepts: b, into: m)
              if watching {
                for k in 0..<outputs where !m[k].isFinite {
                  found.append(row)
                  break
                }
              }
              switch output {
              case .margins: break
              case .labels:
                into[0] =
                  binaryClasses != nil
                  ? binaryLabel(margin: m[0])
                  : isMulticlass ? labels[predictedClass(margins: m)] : prediction(margin: m[0])
              case .probabilities:
                if isMulticlass {
                  probabilities(m)
                } else {
                  let p = prediction(margin: m[0])
                  (into[0], into[1]) = (1 - p, p)
                }
              }
            }
            if !found.isEmpty { suspects.withLock { $0 += found } }
          }
        }
      }
    }
    return suspects.withLock { $0.sorted() }
  }

  /// Quality metrics on `rows` (or the listed `subset`): regression metrics
  /// for squared loss, binary classification metrics for one output (labels
  /// the model's two classes, or ±1 or 0/1), multiclass metrics for several
  /// (labels as in ``classes``).
  public func evaluate(_ rows: CheckedRows, rows subset: [Int]? = nil) throws(UnknownLabel) -> Metrics {
    if !isMulticlass && loss.isClassification { return try evaluateBinary(rows.block, rows: subset) }
    if isMulticlass { return try evaluateMulticlass(rows.block, rows: subset) }
    return evaluateRegression(rows.block, rows: subset)
  }

  /// A regression model's metrics in one pass over the rows, in chunks over
  /// the cores: 64 rows' predictions and labels at a time into a
  /// ``RegressionTally`` a chunk, added up in chunk order.
  private func evaluateRegression(_ rows: RowBlock, rows subset: [Int]?) -> Metrics {
    precondition(
      rows.layout == .csr ? rows.columns <= features : rows.columns == features, "call check(_:) first")
    let count = subset?.count ?? rows.count
    let tallies = weights.withUnsafeBufferPointer { weights in
      intercepts.withUnsafeBufferPointer { intercepts in
        // The model's buffers, read by every chunk.
        nonisolated(unsafe) let (w, b) = (weights, intercepts)
        return Metrics.inChunks(rows: count) { range in
          var tally = RegressionTally()
          let group = 64
          withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * group) { scratch in
            let (m, y) = (scratch.baseAddress!, scratch.baseAddress! + group)
            for start in stride(from: range.lowerBound, to: range.upperBound, by: group) {
              let size = min(group, range.upperBound - start)
              for i in 0..<size {
                let row = subset?[start + i] ?? start + i
                Self.margins(of: row, in: rows, weights: w, intercepts: b, into: m + i)
                y[i] = rows.label(row)
              }
              tally.add(
                predictions: UnsafeBufferPointer(start: m, count: size),
                labels: UnsafeBufferPointer(start: y, count: size))
            }
          }
          return tally
        }
      }
    }
    var total = RegressionTally()
    for tally in tallies { total.add(tally) }
    return Metrics.regression(total)
  }

  /// A multiclass model's metrics in one pass over the rows, in chunks over
  /// the cores: each row's K margins, predicted class, true class (its label
  /// among ``classes``) and, with probabilities, P(true class), tallied into
  /// a confusion matrix and a log-loss sum per chunk, added up in chunk order.
  private func evaluateMulticlass(_ rows: RowBlock, rows subset: [Int]?) throws(UnknownLabel) -> Metrics {
    precondition(
      rows.layout == .csr ? rows.columns <= features : rows.columns == features, "call check(_:) first")
    let count = subset?.count ?? rows.count
    let k = outputs
    let known = classes ?? (0..<k).map(Float.init)
    let index = ClassIndex(known)
    let withProbabilities = hasProbabilities
    // Per chunk, the first position whose label is no class (Int.max: none).
    let unknown = Mutex(Int.max)
    // A K × K confusion matrix a chunk: fewer chunks when K is large (32 MB at most).
    let limit = max(1, 4_194_304 / (k * k))
    let tallies = weights.withUnsafeBufferPointer { weights in
      intercepts.withUnsafeBufferPointer { intercepts in
        // The model's buffers, read by every chunk.
        nonisolated(unsafe) let (w, b) = (weights, intercepts)
        return Metrics.inChunks(rows: count, limit: limit) { range -> (confusion: [Int], logLoss: Double) in
          var confusion = [Int](repeating: 0, count: k * k)
          var logLoss = 0.0
          // A row's margins (then probabilities), and 64 rows' P(true class) waiting for their logarithms.
          let group = 64
          withUnsafeTemporaryAllocation(of: Float.self, capacity: k + group) { scratch in
            let (m, own) = (scratch.baseAddress!, scratch.baseAddress! + k)
            var waiting = 0
            for position in range {
              let row = subset?[position] ?? position
              Self.margins(of: row, in: rows, weights: w, intercepts: b, into: m)
              guard let truth = index(rows.label(row)) else {
                unknown.withLock { $0 = min($0, position) }
                return
              }
              confusion[truth * k + predictedClass(margins: m)] += 1
              guard withProbabilities else { continue }
              probabilities(m)
              own[waiting] = m[truth]
              waiting += 1
              if waiting == group {
                logLoss += Metrics.negativeLogSum(UnsafeBufferPointer(start: own, count: waiting))
                waiting = 0
              }
            }
            logLoss += Metrics.negativeLogSum(UnsafeBufferPointer(start: own, count: waiting))
          }
          return (confusion, logLoss)
        }
      }
    }
    if let position = unknown.withLock({ $0 == Int.max ? nil : $0 }) {
      let row = subset?[position] ?? position
      throw UnknownLabel(row: row + 1, label: rows.label(row), classes: known)
    }
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
    var logLoss = 0.0
    for tally in tallies {
      for t in 0..<k {
        for p in 0..<k { confusion[t][p] += tally.confusion[t * k + p] }
      }
      logLoss += tally.logLoss
    }
    return Metrics.multiclass(
      confusion: confusion, logLoss: withProbabilities ? logLoss : nil,
      classes: classNames ?? known.map(LinearModel.labelText))
  }

  /// A binary classifier's metrics in one pass over the rows, in chunks over
  /// the cores: each row's margin, class (the model's two labels, or ±1 or
  /// 0/1), probability and rank key, tallied as they are made, with no array
  /// per row but the keys the ROC AUC sorts.
  private func evaluateBinary(_ rows: RowBlock, rows subset: [Int]?) throws(UnknownLabel) -> Metrics {
    precondition(
      rows.layout == .csr ? rows.columns <= features : rows.columns == features, "call check(_:) first")
    let count = subset?.count ?? rows.count
    let (negative, positive) = binaryClasses ?? (-1, 1)
    let conventional = [negative, positive] == [0, 1] || [negative, positive] == [-1, 1]
    let probabilities = hasProbabilities
    // Per chunk, the first position whose label is neither class (Int.max: none).
    let unknown = Mutex(Int.max)
    var keys = [UInt64](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    let tally = weights.withUnsafeBufferPointer { weights in
      intercepts.withUnsafeBufferPointer { intercepts in
        keys.withUnsafeMutableBufferPointer { keys in
          // The model's buffers, read by every chunk; each chunk writes only its own keys.
          nonisolated(unsafe) let (w, b, out) = (weights, intercepts, keys.baseAddress!)
          return ClassificationTally.inChunks(rows: count) { range in
            var t = ClassificationTally()
            // Sixty-four rows at a time: their margins, labels ±1 and probabilities on the stack.
            let group = 64
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * group) { scratch in
              let (m, y, p) = (
                scratch.baseAddress!, scratch.baseAddress! + group, scratch.baseAddress! + 2 * group
              )
              for start in stride(from: range.lowerBound, to: range.upperBound, by: group) {
                let size = min(group, range.upperBound - start)
                for i in 0..<size {
                  let position = start + i
                  let row = subset?[position] ?? position
                  Self.margins(of: row, in: rows, weights: w, intercepts: b, into: m + i)
                  let label = rows.label(row)
                  let isPositive: Bool
                  if label == positive || label == negative {
                    isPositive = label == positive
                  } else if conventional, label == -1 || label == 0 || label == 1 {
                    isPositive = label > 0
                  } else {
                    unknown.withLock { $0 = min($0, position) }
                    return
                  }
                  y[i] = isPositive ? 1 : -1
                  out[position] = Metrics.rankKey(score: m[i], positive: isPositive)
                }
                if probabilities {
                  p.update(from: m, count: size)
                  self.probabilities(margins: UnsafeMutableBufferPointer(start: p, count: size))
                }
                t.add(
                  scores: UnsafeBufferPointer(start: m, count: size),
                  labels: UnsafeBufferPointer(start: y, count: size),
                  probabilities: probabilities ? UnsafeBufferPointer(start: p, count: size) : nil)
              }
            }
            return t
          }
        }
      }
    }
    if let position = unknown.withLock({ $0 == Int.max ? nil : $0 }) {
      let row = subset?[position] ?? position
      throw UnknownLabel(row: row + 1, label: rows.label(row), classes: [negative, positive])
    }
    return Metrics.classification(tally, rows: count, keys: &keys, logLoss: probabilities)
  }
}
