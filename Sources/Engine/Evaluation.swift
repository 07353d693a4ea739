import Dataset
import Kernels
import Learning

/// The losses reported after each epoch, computed in parallel by the team:
/// each worker sums over its own training rows and a share of the held-out
/// rows, and the sums are combined in worker order.
struct Evaluation<O: Objective>: Sendable {
  let objective: O
  let data: TrainingSet
  let rowsOf: [[Int32]]
  let configuration: TrainingConfiguration

  struct Losses {
    /// Mean training loss plus the penalty: the objective being minimised.
    var training: Double
    var validation: Double?
    /// Accuracy (classification) or MSE (regression) on held-out rows.
    var validationMetric: Double?
  }

  /// The losses for a model given twice: as trained (`weights`, `bias`, on
  /// possibly standardised training rows) and for raw features (`raw`, which
  /// validation rows are in).
  func losses(team: WorkerTeam, weights: [Float], bias: Float, raw: (weights: [Float], bias: Float)) throws
    -> Losses
  {
    let workers = team.count
    // Per worker: training loss, training weight, validation loss, validation weight, metric sum.
    let sums = Locked([[Double]](repeating: [0, 0, 0, 0, 0], count: workers))
    let validation = data.validation
    let classification = configuration.loss.isClassification
    try team.run { context in
      var partial = [Double](repeating: 0, count: 5)
      weights.withUnsafeBufferPointer { w in
        for row in rowsOf[context.index] {
          let (loss, weight, _) = evaluate(Int(row), of: data.rows, w, bias, classification)
          partial[0] += loss
          partial[1] += weight
        }
      }
      raw.weights.withUnsafeBufferPointer { w in
        for position in stride(from: context.index, to: validation.count, by: context.count) {
          let (loss, weight, metric) = evaluate(
            Int(validation[position]), of: data.validationRows, w, raw.bias, classification)
          partial[2] += loss
          partial[3] += weight
          partial[4] += metric
        }
      }
      sums.withLock { $0[context.index] = partial }
    }
    let total = sums.withLock { rows in (0..<5).map { column in rows.reduce(0) { $0 + $1[column] } } }
    let penalty = weights.withUnsafeBufferPointer {
      Double(Regularization(l1: configuration.l1, l2: configuration.l2).penalty($0))
    }
    return Losses(
      training: total[0] / total[1] + penalty,
      validation: validation.isEmpty ? nil : total[2] / total[3],
      validationMetric: validation.isEmpty ? nil : total[4] / total[3])
  }

  /// Row `row`'s weighted loss, its weight, and its weighted metric term
  /// (1 when classified right, or the squared error).
  @inline(__always)
  private func evaluate(
    _ row: Int, of rows: RowBlock, _ w: UnsafeBufferPointer<Float>, _ bias: Float, _ classification: Bool
  ) -> (Double, Double, Double) {
    let margin: Float
    switch rows.layout {
    case .dense: margin = Dense.dot(rows.denseRow(row), w) + bias
    case .csr:
      let x = rows.sparseRow(row)
      margin = Sparse.dot(indices: x.indices, values: x.values, model: w) + bias
    }
    let y = rows.label(row)
    let weight = Double(rows.weight(row))
    let loss = Double(objective.loss(margin: margin, label: y)) * weight
    let metric = classification ? ((margin >= 0) == (y > 0) ? 1 : 0) : Double((margin - y) * (margin - y))
    return (loss, weight, metric * weight)
  }
}
