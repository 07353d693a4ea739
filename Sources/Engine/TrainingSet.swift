import Dataset
import Dispatch
import Learning
import Parallel

/// Rows ready for training: labels in the loss's terms (±1 for binary
/// classification, the class index `0..<K` for multiclass), the loss and
/// output count they call for, rows split into training and validation,
/// and features standardised when asked.
///
/// Holds the memory of any copy it made (standardised features, converted
/// labels) for as long as training uses the ``rows`` block, and never writes
/// it after `init`: sharing it between workers is read-only, hence Sendable.
/// Which rows each process trains on.
enum ProcessRows {
  /// All of them: one process.
  case all
  /// Every process maps every row and trains on its contiguous share:
  /// process `rank` of `count`.
  case share(rank: Int, count: Int)
  /// Each process has rows of its own and trains on them all; what measures
  /// the rows is summed over the processes through the reducer.
  case own(any Reducer)

  /// The reducer of ``own(_:)``.
  var everywhere: (any Reducer)? {
    if case .own(let reducer) = self { return reducer }
    return nil
  }
}

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
  /// Whether validation reads a separate test set (not rows of the source).
  let validatesOnTest: Bool
  /// The scaling applied to the features, if any.
  let scaler: FeatureScaler?
  /// Whether the features were standardised, and why.
  let scaling: (standardized: Bool, reason: String)
  /// The loss to train: the configuration's, or for more than two classes
  /// ``Learning/Loss/softmax`` when it says logistic without one-vs-rest.
  let loss: Loss
  /// K: 1 for regression and binary classification, the class count for
  /// multiclass.
  let outputs: Int
  /// For multiclass, the label each class index stands for, ascending.
  let classes: [Float]?
  /// `n / Σ ρ` over the training rows (see ``RowStep/weightScale``).
  let weightScale: Float
  /// Training rows over every process (``training`` holds this process's).
  let trainingRowsEverywhere: Int
  /// The training rows of every process, ascending (``training`` when there
  /// is one, or when each process has rows of its own).
  let allTraining: [Int32]
  /// Stored values and rows over every process (this one's when every
  /// process maps every row): what decides the merge interval and the
  /// strategy, alike on every process.
  let nonZerosEverywhere: Int
  let rowCountEverywhere: Int
  /// When each process has rows of its own: what sums the rows' statistics
  /// over the processes (``summed(_:)``); `nil` when every process sees
  /// every row.
  let everywhere: (any Reducer)?
  /// Rows per shuffled block (see ``RowOrder``), the same in every process.
  var blockRows: Int {
    let bytesPerRow = rows.layout == .dense ? rows.columns * 4 : rows.nonZeros * 8 / max(rows.count, 1)
    return RowOrder.blockRows(bytesPerRow: bytesPerRow, rows: trainingRowsEverywhere)
  }
  /// The training rows as given (raw features, converted labels): what
  /// validation on a share of them reads.
  let sourceRows: RowBlock
  /// The set whose memory a sample (``sample(training:validation:)``)
  /// reads, kept alive with it; `nil` for a set that owns its memory.
  private let base: TrainingSet?
  private let ownedFeatures: UnsafeMutableBufferPointer<Float>?
  private let ownedLabels: UnsafeMutableBufferPointer<Float>?
  private let ownedTestLabels: UnsafeMutableBufferPointer<Float>?
  private let ownedWeights: UnsafeMutableBufferPointer<Float>?

  /// Prepares `source` for training; validation uses `test` when given,
  /// otherwise the configuration's holdout share of `source`. Across
  /// processes (``ProcessRows``) every process trains the same problem: the
  /// holdout, the classes, the scaling and the weights' scale are those of
  /// all rows, read directly when every process maps them all, summed over
  /// the processes when each has its own.
  init(
    rows checked: CheckedRows, test checkedTest: CheckedRows?, configuration requested: TrainingConfiguration,
    processes: ProcessRows = .all
  ) throws(TrainingError) {
    let everywhere = processes.everywhere
    self.everywhere = everywhere
    var configuration = requested
    if let everywhere, requested.problem.loss.isClassification, requested.problem.classes == nil {
      // The classes are every process's labels, as if pinned.
      configuration.problem.classes = try Self.classesEverywhere(checked.block, everywhere)
    }
    let source = checked.block
    let test = checkedTest?.block
    guard source.count > 0 else { throw .noTrainingRows }
    guard source.columns > 0 else { throw .invalidConfiguration("the data has no features to train on") }
    if let test, test.columns > source.columns || (source.layout == .dense && test.columns != source.columns)
    {
      throw .invalidConfiguration(
        "the test data has \(test.columns) features but the training data \(source.columns); they must match")
    }
    let labels = UnsafeMutableBufferPointer<Float>.allocate(capacity: source.count)
    let testLabels = test.map { UnsafeMutableBufferPointer<Float>.allocate(capacity: max($0.count, 1)) }
    let target: LabelTarget
    do {
      target = try LabelTarget(source, configuration: configuration)
      try target.convert(source, into: labels, what: "the training data")
      if let test, let testLabels { try target.convert(test, into: testLabels, what: "the test data") }
    } catch {
      labels.deallocate()
      testLabels?.deallocate()
      throw error
    }
    loss = target.loss
    outputs = target.outputs
    classes = target.classes
    ownedLabels = labels
    ownedWeights =
      configuration.problem.classWeight == .balanced && configuration.problem.loss.isClassification
      ? try Self.balancedWeights(
        source, labels: labels, classes: max(target.outputs, 2), everywhere: everywhere)
      : nil
    ownedTestLabels = testLabels

    let need: (standardized: Bool, reason: String)
    if let asked = configuration.problem.standardize {
      need = (asked, "as requested")
    } else {
      need = try Self.scalingNeed(source, everywhere: everywhere)
    }
    scaling = need
    if need.standardized {
      // Sparse rows scaled by the data's decision: each column by the RMS of its stored values.
      let (copy, scaler) =
        source.layout == .csr && configuration.problem.standardize == nil
        ? try Self.rmsScaled(source, everywhere: everywhere)
        : try Self.standardized(source, everywhere: everywhere)
      ownedFeatures = copy
      self.scaler = scaler
    } else {
      ownedFeatures = nil
      scaler = nil
    }
    // What the trainer made of the checked rows is checked too (labels and
    // weights O(rows), a standardised copy O(non-zeros)).
    do {
      rows = try checked.replacing(
        labels: UnsafeBufferPointer(labels),
        features: ownedFeatures.map { UnsafeBufferPointer(rebasing: $0[0..<source.nonZeros]) },
        weights: ownedWeights.map(UnsafeBufferPointer.init), source: "the prepared training rows"
      ).block
    } catch { throw .invalidData(error.description) }

    var training: [Int32] = []
    var validation: [Int32] = []
    training.reserveCapacity(source.count)
    for row in 0..<source.count {
      if configuration.isHeldOut(row) { validation.append(Int32(row)) } else { training.append(Int32(row)) }
    }
    guard !training.isEmpty else { throw .noTrainingRows }
    // Unweighted rows weigh 1 each (a sum of 2M ones is a 3 ms chain of adds).
    var weightSum = Double(training.count)
    if rows.weights != nil {
      weightSum = 0
      for row in training { weightSum += Double(rows.weight(Int(row))) }
    }
    // Summed before any process may refuse its rows, so that every process
    // refuses alike (one left waiting in a later sum would hang).
    let totals = try Self.summed(
      [
        weightSum, Double(training.count), Double(source.nonZeros), Double(source.count),
        Double(validation.count),
      ],
      over: everywhere)
    if test == nil, let fraction = configuration.stopping.holdoutFraction, totals[4] == 0 {
      let rows = Int(totals[3])
      throw .invalidConfiguration(
        "a holdout of \(fraction) holds out no row of the \(rows); use at least \(printed(1 / Double(rows), "%g")) (one row)"
      )
    }
    weightScale = totals[0] > 0 ? Float(totals[1] / totals[0]) : 1
    trainingRowsEverywhere = Int(totals[1])
    nonZerosEverywhere = Int(totals[2])
    rowCountEverywhere = Int(totals[3])
    allTraining = training
    if case .share(let rank, let count) = processes {
      guard training.count >= count else {
        throw .invalidConfiguration(
          "\(training.count) training rows for \(count) processes: each needs at least one")
      }
      self.training = Array(DataLayout.split(training, of: source, into: count)[rank])
    } else {
      self.training = training
    }
    sourceRows = Self.relabeled(source, labels)
    base = nil
    validatesOnTest = test != nil
    if let test, let testLabels {
      validationRows = Self.relabeled(test, testLabels)
      self.validation = (0..<test.count).map(Int32.init)
    } else {
      validationRows = sourceRows
      self.validation = validation
    }
  }

  /// A set of this process alone that trains on `training` and validates
  /// on `validation`, rows of this set's ``rows`` (prepared alike: the same
  /// classes, scaling and labels), without copying them: what a trainer's
  /// own fits use (cross-validation's folds, the rate trial).
  func sample(training: [Int32], validation: [Int32]) -> TrainingSet {
    TrainingSet(sampling: self, training: training, validation: validation)
  }

  private init(sampling base: TrainingSet, training: [Int32], validation: [Int32]) {
    self.base = base
    rows = base.rows
    sourceRows = base.sourceRows
    validationRows = base.sourceRows
    validatesOnTest = false
    self.training = training
    self.validation = validation
    allTraining = training
    scaler = base.scaler
    scaling = base.scaling
    loss = base.loss
    outputs = base.outputs
    classes = base.classes
    everywhere = nil
    var weightSum = 0.0
    var values = 0
    for row in training {
      weightSum += Double(rows.weight(Int(row)))
      values +=
        rows.layout == .dense ? rows.columns : Int(rows.offsets[Int(row) + 1] - rows.offsets[Int(row)])
    }
    weightScale = weightSum > 0 ? Float(Double(training.count) / weightSum) : 1
    trainingRowsEverywhere = training.count
    nonZerosEverywhere = values
    rowCountEverywhere = training.count
    (ownedFeatures, ownedLabels, ownedTestLabels, ownedWeights) = (nil, nil, nil, nil)
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
    ownedLabels?.deallocate()
    ownedFeatures?.deallocate()
  }

  /// Row weights times `n / (K nᵢ)` for a row of class `i` with `nᵢ` rows
  /// (scikit-learn's "balanced"), so every class weighs the same in total.
  /// `labels` are ±1 (K = 2) or class indices.
  private static func balancedWeights(
    _ rows: RowBlock, labels: UnsafeMutableBufferPointer<Float>, classes: Int, everywhere: (any Reducer)?
  ) throws(TrainingError) -> UnsafeMutableBufferPointer<Float> {
    func index(_ label: Float) -> Int { classes == 2 && label == -1 ? 0 : Int(label) }
    var local = [Double](repeating: 0, count: classes + 1)
    for label in labels { local[index(label)] += 1 }
    local[classes] = Double(rows.count)
    let counts = try summed(local, over: everywhere)
    let n = Float(counts[classes])
    let factors = counts.prefix(classes).map { $0 > 0 ? n / (Float(classes) * Float($0)) : 1 }
    let weights = UnsafeMutableBufferPointer<Float>.allocate(capacity: rows.count)
    for row in 0..<rows.count { weights[row] = rows.weight(row) * factors[index(labels[row])] }
    return weights
  }

  /// Whether `rows` need standardising when the configuration leaves it
  /// open, and why, from up to 8,192 evenly spaced rows (O(sample)).
  ///
  /// Dense features are standardised when their scales differ: the largest
  /// column standard deviation is more than 10× the smallest non-zero one,
  /// or a column's mean lies more than 5 standard deviations from 0. A
  /// first-order step suits one scale: on breast-cancer (columns from 0.003
  /// to 500) SGD with the default step reached validation accuracy 0.708
  /// raw and 0.982 standardised, and on diabetes the raw run diverged. Data
  /// already on one scale (generated standard normal features) keeps its
  /// features and its memory: standardising copies every value. Sparse rows
  /// are left as they are (their scaling copies the values too, and sends
  /// rare features' steps up by their small deviations); `standardize = true`
  /// asks for it.
  static func scalingNeed(_ rows: RowBlock, everywhere: (any Reducer)? = nil) throws(TrainingError) -> (
    standardized: Bool, reason: String
  ) {
    guard rows.layout == .dense else { return try sparseScalingNeed(rows, everywhere: everywhere) }
    let columns = rows.columns
    let sample = min(rows.count, 8_192)
    // Each column's sum, then its sum of squares, then the rows sampled.
    var local = [Double](repeating: 0, count: 2 * columns + 1)
    for k in 0..<sample {
      for (j, x) in rows.denseRow(k * rows.count / sample).enumerated() {
        local[j] += Double(x)
        local[columns + j] += Double(x) * Double(x)
      }
    }
    local[2 * columns] = Double(sample)
    let moments = try summed(local, over: everywhere)
    let sums = moments[0..<columns]
    let squares = moments[columns..<2 * columns]
    let n = moments[2 * columns]
    var (smallest, largest, offCentre) = (Double.infinity, 0.0, 0.0)
    for j in 0..<columns {
      let mean = sums[sums.startIndex + j] / n
      let deviation = max(squares[squares.startIndex + j] / n - mean * mean, 0).squareRoot()
      guard deviation > 1e-12 else { continue }
      smallest = min(smallest, deviation)
      largest = max(largest, deviation)
      offCentre = max(offCentre, abs(mean) / deviation)
    }
    guard largest > 0 else { return (false, "no feature varies") }
    if largest > 10 * smallest {
      return (
        true,
        "feature spreads differ \(printed(largest / smallest, "%.3g"))× (standard deviations "
          + "\(printed(smallest, "%.3g")) to \(printed(largest, "%.3g")))"
      )
    }
    if offCentre > 5 {
      return (true, "a feature's mean lies \(printed(offCentre, "%.3g")) standard deviations from 0")
    }
    return (false, "features already on one scale (spreads within 10×, means within 5 standard deviations)")
  }

  /// A standardised copy of the features and the scaler that made it: dense
  /// columns get mean 0 and variance 1; sparse columns are only divided by
  /// their standard deviation, so that zeros stay zeros.
  static func standardized(_ rows: RowBlock, everywhere: (any Reducer)? = nil) throws(TrainingError) -> (
    values: UnsafeMutableBufferPointer<Float>, scaler: FeatureScaler
  ) {
    let columns = rows.columns
    let (means, variances) = try columnMoments(rows, everywhere: everywhere)
    let scales = variances.map { variance -> Double in
      let deviation = variance.squareRoot()
      return deviation > 1e-12 ? deviation : 1
    }
    let scaler = FeatureScaler(
      means: rows.layout == .dense ? means.map(Float.init) : Array(repeating: 0, count: columns),
      scales: scales.map(Float.init))
    return (scaled(rows, by: scaler), scaler)
  }

  /// Whether sparse rows need scaling: when the root mean square of the
  /// stored values of the columns that hold at least 32 of them, over up to
  /// 8,192 evenly spaced rows, differs more than 10× from column to column.
  /// Zeros are left out, so a rare column is not mistaken for a small one:
  /// sparse rows on one scale keep their values (and their memory); columns on scales
  /// 10⁻³ to 10³ apart (the defaults panel's badly scaled copy) took AdaGrad
  /// to test accuracy 0.52 unscaled, where each column divided by its RMS
  /// reaches the unscaled copy's 0.75 (BENCHMARKS.md, "The defaults panel").
  static func sparseScalingNeed(_ rows: RowBlock, everywhere: (any Reducer)?) throws(TrainingError) -> (
    standardized: Bool, reason: String
  ) {
    let sample = min(rows.count, 8_192)
    // Each column's sum of squared stored values, then how many it has.
    var local = [Double](repeating: 0, count: 2 * rows.columns)
    for k in 0..<sample {
      let x = rows.sparseRow(k * rows.count / sample)
      for (j, value) in zip(x.indices, x.values) {
        local[Int(j)] += Double(value) * Double(value)
        local[rows.columns + Int(j)] += 1
      }
    }
    let moments = try summed(local, over: everywhere)
    var (smallest, largest) = (Double.infinity, 0.0)
    // Columns with at least 32 values in the sample: a rare column's few values say little of its scale.
    for j in 0..<rows.columns where moments[rows.columns + j] >= 32 {
      let rms = (moments[j] / moments[rows.columns + j]).squareRoot()
      guard rms > 1e-12 else { continue }
      smallest = min(smallest, rms)
      largest = max(largest, rms)
    }
    guard largest > 10 * smallest else {
      return (false, "sparse features on one scale (stored values' RMS within 10× from column to column)")
    }
    return (
      true,
      "sparse feature scales differ \(printed(largest / smallest, "%.3g"))× (RMS of stored values "
        + "\(printed(smallest, "%.3g")) to \(printed(largest, "%.3g"))): each column divided by its own"
    )
  }

  /// Sparse rows with each column divided by the RMS of its stored values
  /// (over every row, and every process's with `everywhere`); zeros stay
  /// zeros, and a column without values keeps scale 1.
  static func rmsScaled(_ rows: RowBlock, everywhere: (any Reducer)?) throws(TrainingError) -> (
    values: UnsafeMutableBufferPointer<Float>, scaler: FeatureScaler
  ) {
    let columns = rows.columns
    let local = chunkedSums(rows, width: 2 * columns) { range, sums in
      for k in Int(
        rows.offsets[range.lowerBound] - rows.offsets[0])..<Int(
          rows.offsets[range.upperBound] - rows.offsets[0])
      {
        let j = Int(rows.indices[k])
        sums[j] += Double(rows.features[k]) * Double(rows.features[k])
        sums[columns + j] += 1
      }
    }
    let moments = try summed(local, over: everywhere)
    let scales = (0..<columns).map { j -> Float in
      let rms = moments[columns + j] > 0 ? (moments[j] / moments[columns + j]).squareRoot() : 0
      return rms > 1e-12 ? Float(rms) : 1
    }
    let scaler = FeatureScaler(means: Array(repeating: 0, count: columns), scales: scales)
    return (scaled(rows, by: scaler), scaler)
  }

  /// Each column's mean and (population) variance over the rows, in Double,
  /// zeros of sparse rows included (and every process's rows, `everywhere`).
  static func columnMoments(_ rows: RowBlock, everywhere: (any Reducer)? = nil) throws(TrainingError) -> (
    means: [Double], variances: [Double]
  ) {
    let columns = rows.columns
    // Each column's sum, then its sum of squares, then the row count.
    var local = chunkedSums(rows, width: 2 * columns + 1) { range, sums in
      for row in range {
        switch rows.layout {
        case .dense:
          for (j, x) in rows.denseRow(row).enumerated() {
            sums[j] += Double(x)
            sums[columns + j] += Double(x) * Double(x)
          }
        case .csr:
          let sparse = rows.sparseRow(row)
          for (j, x) in zip(sparse.indices, sparse.values) {
            sums[Int(j)] += Double(x)
            sums[columns + Int(j)] += Double(x) * Double(x)
          }
        }
      }
    }
    local[2 * columns] = Double(rows.count)
    let moments = try summed(local, over: everywhere)
    let n = moments[2 * columns]
    let means = moments[0..<columns].map { $0 / n }
    return (
      means,
      zip(means, moments[columns..<2 * columns]).map { mean, square in max(square / n - mean * mean, 0) }
    )
  }

  /// `values` summed over the processes when each has rows of its own
  /// (`everywhere`); as they are otherwise.
  static func summed(_ values: [Double], over everywhere: (any Reducer)?) throws(TrainingError) -> [Double] {
    guard let everywhere, everywhere.processes > 1 else { return values }
    var values = values
    do { try values.withUnsafeMutableBufferPointer { try everywhere.allReduceSum($0) } } catch {
      throw .invalidData("summing the rows' statistics over the processes failed: \(error)")
    }
    return values
  }

  /// The distinct labels of every process's rows, ascending: each process's
  /// own, gathered in slots of a table that a sum over the processes fills.
  /// Every process calls the same two reductions whatever its labels, and
  /// every process throws alike when one's labels cannot be classes or the
  /// classes are more than the rows can teach (``LabelTarget``'s rules over
  /// all rows).
  static func classesEverywhere(_ rows: RowBlock, _ everywhere: any Reducer) throws(TrainingError) -> [Float]
  {
    var distinct = Set<Float>()
    for row in 0..<rows.count where distinct.count <= LabelTarget.maximumClasses {
      distinct.insert(rows.label(row))
    }
    let usable = distinct.count <= LabelTarget.maximumClasses && distinct.allSatisfy(\.isFinite)
    let widest: Int
    do { widest = try everywhere.allReduceMax(usable ? distinct.count : 0) } catch {
      throw .invalidData("gathering the classes over the processes failed: \(error)")
    }
    // Per process: its rows, 1 if its labels cannot be classes, then per label the label and 1.
    let width = 2 + 2 * widest
    var table = [Double](repeating: 0, count: everywhere.processes * width)
    let mine = everywhere.rank * width
    table[mine] = Double(rows.count)
    table[mine + 1] = usable ? 0 : 1
    if usable {
      for (i, label) in distinct.sorted().enumerated() {
        table[mine + 2 + 2 * i] = Double(label)
        table[mine + 3 + 2 * i] = 1
      }
    }
    let filled = try summed(table, over: everywhere)
    var all = Set<Float>()
    var rowsEverywhere = 0
    for process in 0..<everywhere.processes {
      let slot = process * width
      rowsEverywhere += Int(filled[slot])
      if filled[slot + 1] > 0 {
        throw .labelsDoNotFitLoss(
          "process \(process)'s labels take more than \(LabelTarget.maximumClasses) distinct values or are not finite numbers; a classifier's labels are classes"
        )
      }
      for i in 0..<widest where filled[slot + 3 + 2 * i] > 0 { all.insert(Float(filled[slot + 2 + 2 * i])) }
    }
    if all.count > 2,
      all.count * LabelTarget.minimumRowsPerClass > rowsEverywhere || all.count > LabelTarget.maximumClasses
    {
      throw .labelsDoNotFitLoss(
        "the labels take \(all.count) distinct values in \(rowsEverywhere) rows over the processes, fewer than \(LabelTarget.minimumRowsPerClass) rows a class (or more than \(LabelTarget.maximumClasses) classes); for regression use squared loss"
      )
    }
    return all.sorted()
  }

  /// L-BFGS's preconditioner: per parameter (weights feature-major for
  /// `outputs` outputs, then the intercepts), the inverse of a bound on the
  /// objective's curvature along it, `1 / (c E[xⱼ²] + λ₂)` for a weight of
  /// feature `j` and `1 / c` for an intercept, with `c` the loss's
  /// curvature bound and `E[xⱼ²]` over every row (the same in every process).
  /// A feature no row holds (no curvature but the penalty's) gets the largest
  /// of the others' values, so that the diagonal stays positive and bounded.
  func curvatureDiagonal(outputs: Int, l2: Double) throws(TrainingError) -> [Double] {
    let c = loss.curvatureBound.value
    let (means, variances) = try Self.columnMoments(rows, everywhere: everywhere)
    let curvature = zip(means, variances).map { c * ($1 + $0 * $0) + l2 }
    let largest = curvature.filter { $0 > 0 }.map { 1 / $0 }.max() ?? 1
    let weights = curvature.flatMap { value in
      [Double](repeating: value > 0 ? 1 / value : largest, count: outputs)
    }
    return weights + [Double](repeating: 1 / c, count: outputs)
  }

  /// A copy of the rows' stored values scaled by `scaler`: `(x − μ)·(1/σ)`
  /// (sparse: `x·(1/σ)`, zeros stay zeros), in Double with `1/σ` computed
  /// once a column, rounded to Float at the end.
  static func scaled(_ rows: RowBlock, by scaler: FeatureScaler) -> UnsafeMutableBufferPointer<Float> {
    let columns = rows.columns
    let copy = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(rows.nonZeros, 1))
    // Each chunk of rows writes only its own values.
    nonisolated(unsafe) let target = copy.baseAddress!
    let means = scaler.means.map(Double.init)
    let inverses = scaler.scales.map { 1 / Double($0) }
    inChunks(rows) { _, range in
      switch rows.layout {
      case .dense:
        for index in range.lowerBound * columns..<range.upperBound * columns {
          let j = index % columns
          target[index] = Float((Double(rows.features[index]) - means[j]) * inverses[j])
        }
      case .csr:
        let base = rows.offsets[0]
        for k in Int(rows.offsets[range.lowerBound] - base)..<Int(rows.offsets[range.upperBound] - base) {
          target[k] = Float(Double(rows.features[k]) * inverses[Int(rows.indices[k])])
        }
      }
    }
    return copy
  }

  /// Runs `body` on contiguous chunks of `rows`' rows at once, with each
  /// chunk's number: as many chunks as the rows call for (up to `most`, and
  /// 64, of at least 4,096 rows), so that what they add up is the same for
  /// any thread count.
  @discardableResult
  static func inChunks(_ rows: RowBlock, most: Int = 64, _ body: @Sendable (Int, Range<Int>) -> Void) -> Int {
    let chunks = min(most, 64, max(1, rows.count / 4_096))
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
      body(chunk, (rows.count * chunk / chunks)..<(rows.count * (chunk + 1) / chunks))
    }
    return chunks
  }

  /// `width` sums over `rows`, each chunk's (``inChunks(_:most:_:)``) from
  /// `add`, added up in chunk order: the same figures for any thread count.
  /// Each chunk's sums are held until the end, so wide sums take fewer
  /// chunks: 64 MiB of them at most (one chunk from 2²² Doubles, as for
  /// 2²¹ sparse columns' two moments).
  static func chunkedSums(
    _ rows: RowBlock, width: Int, _ add: @Sendable (Range<Int>, inout [Double]) -> Void
  ) -> [Double] {
    let partials = Locked([Int: [Double]]())
    let chunks = inChunks(rows, most: max(1, (64 << 20) / max(8 * width, 1))) { chunk, range in
      var sums = [Double](repeating: 0, count: width)
      add(range, &sums)
      partials.withLock { $0[chunk] = sums }
    }
    return partials.withLock { parts in
      (0..<chunks).reduce(into: [Double](repeating: 0, count: width)) { total, chunk in
        for (i, value) in parts[chunk]!.enumerated() { total[i] += value }
      }
    }
  }

}
