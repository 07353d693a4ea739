import Dispatch

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
    var metrics = Metrics(rows: labels.count)
    guard !labels.isEmpty else { return metrics }
    let n = Double(labels.count)
    let mean = labels.reduce(0.0) { $0 + Double($1) } / n
    var squared = 0.0
    var absolute = 0.0
    var total = 0.0
    for (p, y) in zip(predictions, labels) {
      let error = Double(p) - Double(y)
      squared += error * error
      absolute += abs(error)
      total += (Double(y) - mean) * (Double(y) - mean)
    }
    metrics.mse = squared / n
    metrics.rmse = (squared / n).squareRoot()
    metrics.mae = absolute / n
    metrics.r2 = total > 0 ? 1 - squared / total : nil
    return metrics
  }

  /// Classification metrics from margins `scores` and labels ±1;
  /// `probabilities` (of the positive class), when the model has them, give
  /// the log-loss.
  public static func classification(scores: [Float], labels: [Float], probabilities: [Float]?) -> Metrics {
    precondition(scores.count == labels.count, "\(scores.count) scores for \(labels.count) labels")
    var metrics = Metrics(rows: labels.count)
    guard !labels.isEmpty else { return metrics }
    let n = Double(labels.count)
    /// One chunk's counts and sums.
    struct Tally {
      var truePositive = 0.0
      var falsePositive = 0.0
      var falseNegative = 0.0
      var correct = 0.0
      var hinge = 0.0
      var logLoss = 0.0
    }
    // Chunks of 65,536 rows over the cores, added up in chunk order: the same
    // sums for any thread count.
    let chunks = min(64, max(1, labels.count / 65_536))
    var tallies = [Tally](repeating: Tally(), count: chunks)
    tallies.withUnsafeMutableBufferPointer { buffer in
      // Each chunk writes only its own slot.
      nonisolated(unsafe) let slots = buffer.baseAddress!
      DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        var t = Tally()
        let epsilon = 1e-15
        for i in (labels.count * chunk / chunks)..<(labels.count * (chunk + 1) / chunks) {
          let (score, positive) = (scores[i], labels[i] > 0)
          let predictedPositive = score >= 0
          if predictedPositive == positive { t.correct += 1 }
          if predictedPositive && positive { t.truePositive += 1 }
          if predictedPositive && !positive { t.falsePositive += 1 }
          if !predictedPositive && positive { t.falseNegative += 1 }
          t.hinge += max(0, 1 - Double(positive ? 1 : -1) * Double(score))
          if let probabilities {
            let clipped = min(max(Double(probabilities[i]), epsilon), 1 - epsilon)
            t.logLoss -= positive ? log(clipped) : log(1 - clipped)
          }
        }
        slots[chunk] = t
      }
    }
    var total = Tally()
    for t in tallies {
      total.truePositive += t.truePositive
      total.falsePositive += t.falsePositive
      total.falseNegative += t.falseNegative
      total.correct += t.correct
      total.hinge += t.hinge
      total.logLoss += t.logLoss
    }
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
    metrics.rocAUC = rocAUC(scores: scores, labels: labels)
    if probabilities != nil { metrics.logLoss = total.logLoss / n }
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
    var metrics = Metrics(rows: truth.count)
    metrics.classes = classes
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
    for (p, t) in zip(predicted, truth) { confusion[t][p] += 1 }
    metrics.confusion = confusion
    guard !truth.isEmpty else { return metrics }
    let n = Double(truth.count)
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
    if let probabilities {
      precondition(
        probabilities.count == truth.count * k, "\(probabilities.count) probabilities for \(truth.count) rows"
      )
      var logLoss = 0.0
      for (row, t) in truth.enumerated() {
        logLoss -= log(min(max(Double(probabilities[row * k + t]), 1e-15), 1))
      }
      metrics.logLoss = logLoss / n
    }
    return metrics
  }

  /// The area under the ROC curve: the chance that a random positive scores
  /// above a random negative (ties count half), from ranks (Mann–Whitney U).
  /// `nil` when one class is absent.
  ///
  /// Linear time: the scores are radix-sorted as order-preserving 32-bit
  /// keys (three passes of 11 bits), each with its label in the low bit;
  /// equal scores (−0 and +0 included) form one group of tied ranks.
  public static func rocAUC(scores: [Float], labels: [Float]) -> Double? {
    precondition(scores.count == labels.count, "\(scores.count) scores for \(labels.count) labels")
    let n = scores.count
    var items = [UInt64](repeating: 0, count: n)
    for i in 0..<n {
      // +0 for −0, so that they tie; then negative floats reversed below positive ones.
      let bits = (scores[i] == 0 ? 0 : scores[i]).bitPattern
      let key = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
      items[i] = UInt64(key) << 1 | (labels[i] > 0 ? 1 : 0)
    }
    var spare = [UInt64](repeating: 0, count: n)
    for shift in [1, 12, 23] as [UInt64] {
      var counts = [Int](repeating: 0, count: 2049)
      for item in items { counts[Int((item >> shift) & 0x7FF) + 1] += 1 }
      for bucket in 1...2048 { counts[bucket] += counts[bucket - 1] }
      for item in items {
        let bucket = Int((item >> shift) & 0x7FF)
        spare[counts[bucket]] = item
        counts[bucket] += 1
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

#if canImport(Glibc)
  import Glibc
#endif
