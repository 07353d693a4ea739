import Dispatch
import Kernels

/// Quality figures of a model on labelled data.
///
/// Regression: MSE, RMSE, MAE, R². Binary classification (labels ±1;
/// `scores` are margins): accuracy, log-loss (from the model's
/// probabilities, where it has them), ROC AUC, precision, recall, F1, mean
/// hinge loss. Multiclass: accuracy, macro-averaged F1, log-loss (where the
/// model has probabilities) and the confusion matrix.
public struct Metrics: Sendable, Equatable, Codable {
  public var rows: Int
  public var mse: Double?
  public var rmse: Double?
  public var mae: Double?
  public var r2: Double?
  public var accuracy: Double?
  public var logLoss: Double?
  public var rocAUC: Double?
  public var precision: Double?
  public var recall: Double?
  public var f1: Double?
  public var hinge: Double?
  /// Multiclass: the unweighted mean of the classes' F1 scores.
  public var macroF1: Double?
  /// Multiclass: `confusion[i][j]` rows of class `i` predicted as class `j`.
  public var confusion: [[Int]]?
  /// Multiclass: each class's label as the data has it (a number or a name).
  public var classes: [String]?

  /// Regression metrics of `predictions` against `labels`.
  public static func regression(predictions: [Float], labels: [Float]) -> Metrics {
    precondition(
      predictions.count == labels.count, "\(predictions.count) predictions for \(labels.count) labels")
    var tally = RegressionTally()
    predictions.withUnsafeBufferPointer { p in
      labels.withUnsafeBufferPointer { tally.add(predictions: p, labels: $0) }
    }
    return regression(tally)
  }

  /// Regression metrics from a ``RegressionTally``: MSE, RMSE, MAE, and R²
  /// (`1 − Σ (p − y)² / Σ (y − ȳ)²`, none when the labels do not vary).
  public static func regression(_ tally: RegressionTally) -> Metrics {
    var metrics = Metrics(rows: tally.rows)
    guard tally.rows > 0 else { return metrics }
    let n = Double(tally.rows)
    metrics.mse = tally.squared / n
    metrics.rmse = (tally.squared / n).squareRoot()
    metrics.mae = tally.absolute / n
    metrics.r2 = tally.labelSquares > 0 ? 1 - tally.squared / tally.labelSquares : nil
    return metrics
  }

  /// Classification metrics from margins `scores` and labels ±1;
  /// `probabilities` (of the positive class), when the model has them, give
  /// the log-loss.
  public static func classification(scores: [Float], labels: [Float], probabilities: [Float]?) -> Metrics {
    precondition(scores.count == labels.count, "\(scores.count) scores for \(labels.count) labels")
    var keys = [UInt64](repeating: 0, count: scores.count)
    let tally = keys.withUnsafeMutableBufferPointer { keys in
      // Each chunk writes only its own positions.
      nonisolated(unsafe) let out = keys.baseAddress!
      return ClassificationTally.inChunks(rows: labels.count) { range in
        var t = ClassificationTally()
        for i in range { out[i] = rankKey(score: scores[i], positive: labels[i] > 0) }
        scores[range].withUnsafeBufferPointer { scores in
          labels[range].withUnsafeBufferPointer { labels in
            guard let probabilities else { return t.add(scores: scores, labels: labels, probabilities: nil) }
            probabilities[range].withUnsafeBufferPointer {
              t.add(scores: scores, labels: labels, probabilities: $0)
            }
          }
        }
        return t
      }
    }
    return classification(tally, rows: labels.count, keys: &keys, logLoss: probabilities != nil)
  }

  /// Classification metrics from a ``ClassificationTally`` of `rows` rows and
  /// each row's ``rankKey(score:positive:)`` (put in order here, for the ROC
  /// AUC); the log-loss only where probabilities were tallied.
  public static func classification(
    _ total: ClassificationTally, rows: Int, keys: inout [UInt64], logLoss: Bool
  ) -> Metrics {
    var metrics = Metrics(rows: rows)
    guard rows > 0 else { return metrics }
    let n = Double(rows)
    metrics.accuracy = total.correct / n
    metrics.hinge = total.hinge / n
    let (truePositive, falsePositive, falseNegative) = (
      total.truePositive, total.falsePositive, total.falseNegative
    )
    let precision = truePositive + falsePositive > 0 ? truePositive / (truePositive + falsePositive) : 0
    let recall = truePositive + falseNegative > 0 ? truePositive / (truePositive + falseNegative) : 0
    metrics.precision = precision
    metrics.recall = recall
    metrics.f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
    metrics.rocAUC = rocAUC(keys: &keys)
    if logLoss { metrics.logLoss = total.logLoss / n }
    return metrics
  }

  /// Multiclass metrics of predicted class indices against true ones
  /// (`0..<classes.count`); `probabilities` (`rows × classes`, row-major),
  /// when the model has them, give the log-loss `−mean log p(true class)`.
  public static func multiclass(
    predicted: [Int], truth: [Int], probabilities: [Float]?, classes: [String]
  ) -> Metrics {
    precondition(predicted.count == truth.count, "\(predicted.count) predictions for \(truth.count) labels")
    let k = classes.count
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
    for (p, t) in zip(predicted, truth) { confusion[t][p] += 1 }
    let logLoss = probabilities.map { probabilities in
      precondition(
        probabilities.count == truth.count * k, "\(probabilities.count) probabilities for \(truth.count) rows"
      )
      let own = truth.enumerated().map { row, t in probabilities[row * k + t] }
      return own.withUnsafeBufferPointer { negativeLogSum($0) }
    }
    return multiclass(confusion: confusion, logLoss: logLoss, classes: classes)
  }

  /// Multiclass metrics from the confusion matrix (`confusion[true][predicted]`
  /// rows, K × K) and, when the model has probabilities, `−Σ log p(true class)`
  /// over the rows.
  public static func multiclass(confusion: [[Int]], logLoss: Double?, classes: [String]) -> Metrics {
    let k = classes.count
    precondition(
      confusion.count == k && confusion.allSatisfy { $0.count == k }, "a \(k) × \(k) confusion matrix")
    let rows = confusion.reduce(0) { $0 + $1.reduce(0, +) }
    var metrics = Metrics(rows: rows)
    metrics.classes = classes
    metrics.confusion = confusion
    guard rows > 0 else { return metrics }
    let n = Double(rows)
    metrics.accuracy = Double((0..<k).reduce(0) { $0 + confusion[$1][$1] }) / n
    // F1 of class c = 2 TP / (2 TP + FP + FN); a class never predicted nor present scores 0.
    let f1s = (0..<k).map { c -> Double in
      let truePositive = Double(confusion[c][c])
      let predictedCount = Double((0..<k).reduce(0) { $0 + confusion[$1][c] })
      let actualCount = Double(confusion[c].reduce(0, +))
      let denominator = predictedCount + actualCount
      return denominator > 0 ? 2 * truePositive / denominator : 0
    }
    metrics.macroF1 = f1s.reduce(0, +) / Double(k)
    if let logLoss { metrics.logLoss = logLoss / n }
    return metrics
  }

  /// `−Σ log max(p, 1e-15)` over `probabilities` (each at most 1), or with
  /// `labels` (±1) over `p` for `+1` and `1 − p` for `−1`: a log-loss's sum.
  /// The logarithms are ``VectorMath/log(_:)``, eight values at a time,
  /// their sum per eight a Float (relative error about 3e-7 a value).
  public static func negativeLogSum(
    _ probabilities: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Float>? = nil
  ) -> Double {
    precondition(labels == nil || labels!.count == probabilities.count, "a label a probability")
    guard let p = probabilities.baseAddress else { return 0 }
    let y = labels?.baseAddress
    var logs: Double = 0  // Σ log p(true class)
    var k = 0
    while k < probabilities.count {
      // The last count mod 8 values go through vectors on the stack, the lanes past them p = 1 for y = +1.
      let lanes = min(8, probabilities.count - k)
      var (probability, label) = (SIMD8<Float>(repeating: 1), SIMD8<Float>(repeating: 1))
      if lanes == 8 {
        probability = UnsafeRawPointer(p + k).loadUnaligned(as: SIMD8<Float>.self)
        if let y { label = UnsafeRawPointer(y + k).loadUnaligned(as: SIMD8<Float>.self) }
      } else {
        for lane in 0..<lanes {
          probability[lane] = p[k + lane]
          if let y { label[lane] = y[k + lane] }
        }
      }
      // p for y = +1, 1 − p for y = −1: (1 − y)/2 + y p, exact for both.
      let own = (0.5 - 0.5 * label).addingProduct(label, probability)
      // Clipped to [1e-15, 1 − 1e-15] (1 − 1e-15 is 1 in a Float).
      let lanesLogs = VectorMath.log(VectorMath.max(own, SIMD8(repeating: 1e-15)))
      let four = lanesLogs.lowHalf + lanesLogs.highHalf
      let two = four.lowHalf + four.highHalf
      logs += Double(two[0] + two[1])
      k += 8
    }
    return -logs
  }

  /// The area under the ROC curve: the chance that a random positive scores
  /// above a random negative (ties count half), from ranks (Mann–Whitney U).
  /// `nil` when one class is absent.
  public static func rocAUC(scores: [Float], labels: [Float]) -> Double? {
    precondition(scores.count == labels.count, "\(scores.count) scores for \(labels.count) labels")
    var keys = (0..<scores.count).map { rankKey(score: scores[$0], positive: labels[$0] > 0) }
    return rocAUC(keys: &keys)
  }

  /// A row's score as an order-preserving 32-bit key, shifted up one bit,
  /// with its label in the low bit: what ``rocAUC(keys:)`` sorts. +0 for −0,
  /// so that they tie; negative floats reversed below positive ones.
  @inline(__always)
  public static func rankKey(score: Float, positive: Bool) -> UInt64 {
    let bits = (score == 0 ? 0 : score).bitPattern
    let key = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    return UInt64(key) << 1 | (positive ? 1 : 0)
  }

  /// ``rocAUC(scores:labels:)`` from every row's ``rankKey(score:positive:)``,
  /// which it sorts in place. Linear time: a radix sort (three passes of 11
  /// bits), each pass counting and then placing chunks of the keys on every
  /// core (each chunk places its keys after those of the chunks before it in
  /// their bucket: the order one core would give); equal scores form one
  /// group of tied ranks.
  public static func rocAUC(keys items: inout [UInt64]) -> Double? {
    let n = items.count
    let buckets = 2048
    let chunks = min(64, max(1, n / 65_536))
    var spare = [UInt64](unsafeUninitializedCapacity: n) { _, initialized in initialized = n }
    var counts = [Int](repeating: 0, count: chunks * buckets)
    for shift in [1, 12, 23] as [UInt64] {
      items.withUnsafeBufferPointer { source in
        spare.withUnsafeMutableBufferPointer { target in
          counts.withUnsafeMutableBufferPointer { counts in
            // Each chunk counts, then places, only its own keys, through its own row of counts.
            nonisolated(unsafe) let (from, to, count) = (source, target.baseAddress!, counts.baseAddress!)
            @Sendable func bucket(_ item: UInt64) -> Int { Int((item >> shift) & 0x7FF) }
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
              let mine = count + chunk * buckets
              mine.update(repeating: 0, count: buckets)
              for i in (n * chunk / chunks)..<(n * (chunk + 1) / chunks) { mine[bucket(from[i])] += 1 }
            }
            // Where each chunk's keys of each bucket start: buckets in order, chunks in order within one.
            var start = 0
            for b in 0..<buckets {
              for chunk in 0..<chunks {
                let here = count[chunk * buckets + b]
                count[chunk * buckets + b] = start
                start += here
              }
            }
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
              let next = count + chunk * buckets
              for i in (n * chunk / chunks)..<(n * (chunk + 1) / chunks) {
                let item = from[i]
                to[next[bucket(item)]] = item
                next[bucket(item)] += 1
              }
            }
          }
        }
      }
      swap(&items, &spare)
    }
    var rankSumPositive = 0.0
    var positives = 0.0
    var start = 0
    while start < n {
      var end = start
      var groupPositives = Double(items[start] & 1)
      while end + 1 < n && items[end + 1] >> 1 == items[start] >> 1 {
        end += 1
        groupPositives += Double(items[end] & 1)
      }
      rankSumPositive += groupPositives * (Double(start + end) / 2 + 1)
      positives += groupPositives
      start = end + 1
    }
    let negatives = Double(n) - positives
    guard positives > 0, negatives > 0 else { return nil }
    return (rankSumPositive - positives * (positives + 1) / 2) / (positives * negatives)
  }
}

/// Regression sums over rows, in Double: squared and absolute errors, and
/// the labels' mean and squared deviations from it, kept per group and
/// combined as Chan, Golub and LeVeque do (`M₂ = M₂ᵃ + M₂ᵇ + δ² nᵃ nᵇ / n`,
/// δ the difference of the means), so R² needs no second pass and no
/// cancellation of `Σ y² − n ȳ²`.
public struct RegressionTally: Sendable {
  public var rows = 0
  public var squared = 0.0
  public var absolute = 0.0
  public var labelMean = 0.0
  /// `Σ (y − ȳ)²`.
  public var labelSquares = 0.0

  public init() {}

  /// A group of rows: row `i`'s prediction and label (buffers of equal length).
  public mutating func add(predictions: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Float>) {
    precondition(predictions.count == labels.count, "a label a prediction")
    guard !labels.isEmpty else { return }
    var group = RegressionTally()
    group.rows = labels.count
    var sum = 0.0
    for (p, y) in zip(predictions, labels) {
      let error = Double(p) - Double(y)
      group.squared += error * error
      group.absolute += abs(error)
      sum += Double(y)
    }
    group.labelMean = sum / Double(labels.count)
    for y in labels { group.labelSquares += (Double(y) - group.labelMean) * (Double(y) - group.labelMean) }
    add(group)
  }

  /// Adds another tally's rows.
  public mutating func add(_ other: RegressionTally) {
    guard other.rows > 0 else { return }
    let (a, b) = (Double(rows), Double(other.rows))
    let delta = other.labelMean - labelMean
    labelSquares += other.labelSquares + delta * delta * a * b / (a + b)
    labelMean += delta * b / (a + b)
    rows += other.rows
    squared += other.squared
    absolute += other.absolute
  }
}

/// Binary classification counts and sums, row by row (labels ±1, scores
/// margins): what ``Metrics/classification(_:rows:keys:logLoss:)`` turns
/// into metrics.
public struct ClassificationTally: Sendable {
  public var truePositive = 0.0
  public var falsePositive = 0.0
  public var falseNegative = 0.0
  public var correct = 0.0
  public var hinge = 0.0
  /// `−Σ log p(true class)`, each p clipped to [1e-15, 1 − 1e-15].
  public var logLoss = 0.0

  public init() {}

  /// A group of rows: row `i`'s margin `scores[i]`, its label `labels[i]`
  /// (±1), and P(positive) `probabilities[i]` when the model has it (the
  /// buffers of equal length). The counts and the hinge are summed row by
  /// row in Double, the log-loss by ``Metrics/negativeLogSum(_:labels:)``.
  public mutating func add(
    scores: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Float>,
    probabilities: UnsafeBufferPointer<Float>?
  ) {
    // Rows predicted positive, rows positive, and both, counted without a
    // branch a row (the classes are unpredictable); then the four counts.
    var (predicted, actual, hits, hinges) = (0, 0, 0, 0.0)
    for (score, label) in zip(scores, labels) {
      let (p, y) = (score >= 0 ? 1 : 0, label > 0 ? 1 : 0)
      predicted += p
      actual += y
      hits += p & y
      hinges += max(0, 1 - Double(label) * Double(score))
    }
    truePositive += Double(hits)
    falsePositive += Double(predicted - hits)
    falseNegative += Double(actual - hits)
    correct += Double(scores.count - (predicted - hits) - (actual - hits))
    hinge += hinges
    if let probabilities { logLoss += Metrics.negativeLogSum(probabilities, labels: labels) }
  }

  /// Adds another tally's counts and sums.
  public mutating func add(_ other: ClassificationTally) {
    truePositive += other.truePositive
    falsePositive += other.falsePositive
    falseNegative += other.falseNegative
    correct += other.correct
    hinge += other.hinge
    logLoss += other.logLoss
  }

  /// `tally(range)` for chunks of about 65,536 of `rows` rows over the
  /// cores, added up in chunk order: the same sums for any thread count.
  public static func inChunks(
    rows: Int, _ tally: @Sendable (Range<Int>) -> ClassificationTally
  ) -> ClassificationTally {
    var total = ClassificationTally()
    for t in Metrics.inChunks(rows: rows, tally) { total.add(t) }
    return total
  }
}

extension Metrics {
  /// `work(range)` for chunks of about 65,536 of `rows` rows, at most
  /// `limit` of them, over the cores; the results in chunk order, so that
  /// what is added up from them is the same for any thread count.
  public static func inChunks<Result: Sendable>(
    rows: Int, limit: Int = 64, _ work: @Sendable (Range<Int>) -> Result
  ) -> [Result] {
    let chunks = max(1, min(limit, 64, rows / 65_536))
    var results = [Result?](repeating: nil, count: chunks)
    results.withUnsafeMutableBufferPointer { buffer in
      // Each chunk writes only its own slot.
      nonisolated(unsafe) let slots = buffer.baseAddress!
      DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        slots[chunk] = work((rows * chunk / chunks)..<(rows * (chunk + 1) / chunks))
      }
    }
    return results.map { $0! }
  }
}

#if canImport(Glibc)
  import Glibc
#endif
