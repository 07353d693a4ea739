/// A k-means model: `k` centres of `features` values each, stored
/// centre-major (centre `c` is `centres[c·features ..< (c+1)·features]`),
/// in the space the rows were clustered in. With a ``scaler`` that is the
/// standardised space: rows are scaled before they are compared with the
/// centres, and ``rawCentres`` gives the centres in the data's own units.
public struct ClusterModel: Sendable, Equatable {
  /// k × features floats, centre-major.
  public var centres: [Float]
  /// k, the number of centres.
  public let clusters: Int
  /// The number of features.
  public let features: Int
  /// The standardisation the rows went through before clustering, if any.
  public var scaler: FeatureScaler?

  /// A model of `centres.count / features` centres.
  public init(centres: [Float], features: Int, scaler: FeatureScaler? = nil) {
    precondition(
      features >= 1 && centres.count % features == 0 && !centres.isEmpty,
      "\(centres.count) centre values for \(features) features")
    precondition(scaler.map { $0.means.count == features } ?? true, "a scaler for \(features) features")
    self.centres = centres
    clusters = centres.count / features
    self.features = features
    self.scaler = scaler
  }

  /// Centre `c`'s values.
  public func centre(_ c: Int) -> ArraySlice<Float> { centres[c * features..<(c + 1) * features] }

  /// The centres in the data's own units (`c·σ + μ` per feature when the
  /// rows were standardised).
  public var rawCentres: [Float] {
    guard let scaler else { return centres }
    return centres.indices.map { i in
      let j = i % features
      return centres[i] * scaler.scales[j] + scaler.means[j]
    }
  }

  /// The nearest centre to a dense row of raw features and its squared
  /// distance, in Double: the lowest centre index among equally near ones.
  /// For a few rows; whole datasets go through the engine's parallel kernel.
  public func nearest(dense x: UnsafeBufferPointer<Float>) -> (cluster: Int, squaredDistance: Double) {
    precondition(x.count == features, "a row of \(x.count) features for a model of \(features)")
    var best = (cluster: 0, squaredDistance: Double.infinity)
    for c in 0..<clusters {
      var sum = 0.0
      for j in 0..<features {
        let value = scaler.map { (Double(x[j]) - Double($0.means[j])) / Double($0.scales[j]) } ?? Double(x[j])
        let difference = value - Double(centres[c * features + j])
        sum += difference * difference
      }
      if sum < best.squaredDistance { best = (c, sum) }
    }
    return best
  }
}

/// The adjusted Rand index of two labellings of the same rows (Hubert and
/// Arabie, 1985): 1 for the same partition up to renaming, about 0 for
/// independent ones. From the contingency table `n_ij`:
///
///     ARI = (Σ C(n_ij, 2) − E) / (½ (Σ C(a_i, 2) + Σ C(b_j, 2)) − E),
///     E = Σ C(a_i, 2) Σ C(b_j, 2) / C(n, 2)
///
/// with `a_i`, `b_j` the row and column sums. 1 when both labellings put
/// every row in one cluster (or each in its own), as scikit-learn.
public func adjustedRandIndex<A: Hashable, B: Hashable>(_ truth: [A], _ predicted: [B]) -> Double {
  precondition(truth.count == predicted.count, "\(truth.count) true labels for \(predicted.count) predicted")
  func pairs(_ n: Int) -> Double { Double(n) * Double(n - 1) / 2 }
  // Each labelling's values numbered in order of appearance, then the table's cells by (i, j).
  var truthIds: [A: Int] = [:]
  var predictedIds: [B: Int] = [:]
  var cells: [Int: Int] = [:]
  var rows: [Int: Int] = [:]
  var columns: [Int: Int] = [:]
  for (a, b) in zip(truth, predicted) {
    let i = truthIds[a] ?? truthIds.count
    truthIds[a] = i
    let j = predictedIds[b] ?? predictedIds.count
    predictedIds[b] = j
    cells[i &* truth.count &+ j, default: 0] += 1
    rows[i, default: 0] += 1
    columns[j, default: 0] += 1
  }
  let index = cells.values.reduce(0.0) { $0 + pairs($1) }
  let rowPairs = rows.values.reduce(0.0) { $0 + pairs($1) }
  let columnPairs = columns.values.reduce(0.0) { $0 + pairs($1) }
  let total = pairs(truth.count)
  guard total > 0 else { return 1 }
  let expected = rowPairs * columnPairs / total
  let maximum = (rowPairs + columnPairs) / 2
  guard maximum != expected else { return 1 }
  return (index - expected) / (maximum - expected)
}
