import Dataset

/// The objective sparse SGD under AdaGrad minimises: each feature's
/// penalties times its share of the training rows.
///
/// A sparse AdaGrad step penalises only the features its row holds (that is
/// what keeps it O(non-zeros), and what Vowpal Wabbit does), so feature `i`,
/// held by `nᵢ` of the `n` training rows, meets its penalty in a share
/// `pᵢ = nᵢ / n` of the steps: the iteration's fixed point is the minimum of
///
///     mean loss + Σᵢ pᵢ (λ₁ |wᵢ| + ½ λ₂ wᵢ²),
///
/// not of the objective with `pᵢ = 1` that every other method minimises. The
/// training loss reported for such a run is this one, so that it is the
/// quantity the run lowers (reported with `pᵢ = 1`, it rose from epoch to
/// epoch while the model improved: 6.7, 10.0, 12.5 on 500,000 rows of 50,000
/// power-law features at λ₂ = 10⁻⁴). The convergence matrix holds such runs
/// to the oracle's optimum of this objective.
struct PenaltyShares: Sendable {
  /// `pᵢ` for each feature.
  let shares: [Float]

  /// The shares for `data` under `configuration` (its schedule resolved), or
  /// `nil` when every feature meets its penalty at every update: dense rows,
  /// another algorithm or schedule, or no penalty. Every process maps all the
  /// rows, so each counts over all training rows, not only its shard.
  init?(for data: TrainingSet, configuration: TrainingConfiguration) throws(TrainingError) {
    guard data.rows.layout == .csr, configuration.optimizer.schedule == .adagrad,
      configuration.optimizer.algorithm == .sgd,
      configuration.problem.l1 > 0 || configuration.problem.l2Strength > 0
    else { return nil }
    var counts = [Int32](repeating: 0, count: data.rows.columns)
    for row in data.allTraining {
      for index in data.rows.sparseRow(Int(row)).indices { counts[Int(index)] &+= 1 }
    }
    guard data.everywhere != nil else {
      let n = Float(data.allTraining.count)
      shares = counts.map { Float($0) / n }
      return
    }
    // Each process's rows are its own: the counts summed over the processes.
    let summed = try TrainingSet.summed(counts.map(Double.init), over: data.everywhere)
    let n = Double(data.trainingRowsEverywhere)
    shares = summed.map { Float($0 / n) }
  }

  /// `Σᵢ pᵢ (λ₁ |wᵢₖ| + ½ λ₂ wᵢₖ²)` over the weights `w` (features × `outputs`,
  /// feature-major), in Double.
  func penalty(of w: [Float], outputs: Int, l1: Float, l2: Float) -> Double {
    var total = 0.0
    for (position, weight) in w.enumerated() {
      let value = Double(weight)
      total +=
        Double(shares[position / outputs]) * (Double(l1) * abs(value) + 0.5 * Double(l2) * value * value)
    }
    return total
  }
}
