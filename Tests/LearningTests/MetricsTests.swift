import Foundation
import Testing

@testable import Learning

@Suite("Metrics")
struct MetricsTests {
  /// The definition, pair by pair: P(positive scores above negative), ties half.
  static func bruteForceAUC(_ scores: [Float], _ labels: [Float]) -> Double? {
    var wins = 0.0
    var pairs = 0.0
    for (p, pl) in zip(scores, labels) where pl > 0 {
      for (q, ql) in zip(scores, labels) where ql <= 0 {
        pairs += 1
        wins += p > q ? 1 : (p == q ? 0.5 : 0)
      }
    }
    return pairs > 0 ? wins / pairs : nil
  }

  @Test("ROC AUC agrees with the pairwise definition: ties, ±0, negatives, infinities, one class")
  func rocAUC() {
    var state: UInt64 = 7
    func next() -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return state >> 33
    }
    let specials: [Float] = [0, -0.0, .infinity, -.infinity, 1e-38, -1e-38, 3e38, -3e38]
    for trial in 0..<200 {
      let n = 1 + Int(next() % 60)
      let scores: [Float] = (0..<n).map { _ in
        switch next() % 4 {
        case 0: specials[Int(next() % UInt64(specials.count))]
        case 1: Float(Int(next() % 5)) - 2  // many ties
        default: Float(bitPattern: UInt32(truncatingIfNeeded: next()) & 0xBF7F_FFFF)  // finite, any sign
        }
      }
      let labels: [Float] = (0..<n).map { _ in trial % 17 == 0 ? 1 : (next() % 2 == 0 ? 1 : -1) }
      let expected = Self.bruteForceAUC(scores, labels)
      let found = Metrics.rocAUC(scores: scores, labels: labels)
      if let expected, let found {
        #expect(abs(found - expected) < 1e-12, "trial \(trial): \(found) against \(expected)")
      } else {
        #expect(found == nil && expected == nil, "trial \(trial)")
      }
    }
  }

  @Test("binary metrics over many chunks equal a plain Double reference")
  func classificationChunks() {
    var state: UInt64 = 11
    func next() -> Double {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Double(state >> 11) / 9_007_199_254_740_992
    }
    let n = 300_001
    let scores = (0..<n).map { _ in Float(next() * 8 - 4) }
    let labels = scores.map { s in Float(next() < 1 / (1 + exp(-Double(s))) ? 1 : -1) }
    let probabilities = scores.map { 1 / (1 + exp(-$0)) }
    let metrics = Metrics.classification(scores: scores, labels: labels, probabilities: probabilities)
    var (tp, fp, fn, correct, hinge, logLoss) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    for i in 0..<n {
      let (p, y) = (scores[i] >= 0, labels[i] > 0)
      correct += p == y ? 1 : 0
      tp += p && y ? 1 : 0
      fp += p && !y ? 1 : 0
      fn += !p && y ? 1 : 0
      hinge += max(0, 1 - Double(labels[i]) * Double(scores[i]))
      let q = min(max(Double(probabilities[i]), 1e-15), 1 - 1e-15)
      logLoss -= y ? log(q) : log(1 - q)
    }
    #expect(metrics.accuracy == correct / Double(n))
    #expect(metrics.precision == tp / (tp + fp))
    #expect(metrics.recall == tp / (tp + fn))
    #expect(abs(metrics.hinge! - hinge / Double(n)) < 1e-12)
    // The log-loss's logarithms are Float, eight rows at a time (about 2e-7 each).
    #expect(abs(metrics.logLoss! - logLoss / Double(n)) < 1e-6)
  }

  @Test("regression sums added up over groups of any sizes equal a two-pass Double reference, far from 0 too")
  func regressionGroups() {
    var state: UInt64 = 5
    func next() -> Double {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Double(state >> 11) / 9_007_199_254_740_992
    }
    let n = 100_003
    // Labels 10⁴ ± 1: Σ y² − n ȳ² would lose about half the digits of Σ (y − ȳ)².
    let labels = (0..<n).map { _ in Float(10_000 + next() * 2 - 1) }
    let predictions = labels.map { $0 + Float(next() - 0.5) }
    let mean = labels.reduce(0.0) { $0 + Double($1) } / Double(n)
    var (squared, absolute, total) = (0.0, 0.0, 0.0)
    for (p, y) in zip(predictions, labels) {
      squared += (Double(p) - Double(y)) * (Double(p) - Double(y))
      absolute += abs(Double(p) - Double(y))
      total += (Double(y) - mean) * (Double(y) - mean)
    }
    var tally = RegressionTally()
    var start = 0
    while start < n {
      let size = min(n - start, 1 + Int(next() * 300))
      predictions[start..<start + size].withUnsafeBufferPointer { p in
        labels[start..<start + size].withUnsafeBufferPointer { tally.add(predictions: p, labels: $0) }
      }
      start += size
    }
    let metrics = Metrics.regression(tally)
    #expect(metrics.rows == n)
    #expect(abs(metrics.mse! - squared / Double(n)) <= 1e-12 * squared / Double(n))
    #expect(abs(metrics.mae! - absolute / Double(n)) <= 1e-12 * absolute / Double(n))
    #expect(
      abs(metrics.r2! - (1 - squared / total)) <= 1e-9, "R² \(metrics.r2!) against \(1 - squared / total)")
  }

  /// Mann–Whitney from a comparison sort: tied scores share their mean rank.
  static func rankedAUC(_ scores: [Float], _ labels: [Float]) -> Double {
    let order = scores.indices.sorted { scores[$0] < scores[$1] }
    var rankSum = 0.0
    var start = 0
    while start < order.count {
      var end = start
      while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
      let rank = Double(start + end) / 2 + 1
      for i in start...end where labels[order[i]] > 0 { rankSum += rank }
      start = end + 1
    }
    let positives = Double(labels.filter { $0 > 0 }.count)
    let negatives = Double(labels.count) - positives
    return (rankSum - positives * (positives + 1) / 2) / (positives * negatives)
  }

  @Test("ROC AUC over many chunks of keys (sorted on every core) equals a comparison sort's ranks")
  func rocAUCInChunks() {
    var state: UInt64 = 5
    func next() -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return state >> 33
    }
    let n = 400_003
    // Scores on a grid of 0.01 (many ties), both signs, and every label pattern.
    let scores = (0..<n).map { _ in Float(Int(next() % 2001) - 1000) / 100 }
    let labels = scores.map { s in next() % 1000 < UInt64(500 + Int(s * 40)) ? Float(1) : -1 }
    let found = Metrics.rocAUC(scores: scores, labels: labels)!
    let expected = Self.rankedAUC(scores, labels)
    #expect(abs(found - expected) < 1e-12, "\(found) against \(expected)")
  }
}
