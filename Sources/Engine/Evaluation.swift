import Dataset
import Kernels
import Learning
import Parallel

/// The losses reported after each epoch, computed in parallel by the team:
/// each worker sums over its own training rows and a share of the held-out
/// rows, and the sums are combined in worker order. Margins come from the
/// training loops' own ``RowStep``.
struct Evaluation<O: OutputObjective>: Sendable {
  let step: RowStep<O>
  let data: TrainingSet
  let assignments: [WorkerAssignment]
  let configuration: TrainingConfiguration
  /// Combines the training loss over processes (every process evaluates
  /// all held-out rows itself).
  let reducer: any Reducer
  /// Sparse SGD under AdaGrad: the penalty's share for each feature (the
  /// objective such a run minimises); `nil` for the plain penalty.
  let shares: PenaltyShares?

  /// The losses for a model given twice: as trained (`model`, on possibly
  /// standardised training rows) and for raw features (`raw`, which
  /// validation rows are in); weights then intercepts, each. With a
  /// `progressive` tally the training loss is its mean (plus the model's
  /// penalty) and the training rows are not read.
  func losses(
    team: WorkerTeam, model: (weights: [Float], intercepts: [Float]),
    raw: (weights: [Float], intercepts: [Float]), progressive: LossTally?
  ) throws -> EpochLosses {
    let workers = team.count
    // Per worker: training loss, training weight, validation loss, validation weight, metric sum.
    let sums = Locked([[Double]](repeating: [0, 0, 0, 0, 0], count: workers))
    let validation = data.validation
    try team.run { context in
      var partial = [Double](repeating: 0, count: 5)
      let scratch = UnsafeMutablePointer<Float>.allocate(capacity: step.outputs)
      defer { scratch.deallocate() }
      if progressive == nil {
        withView(of: model) { view in
          for row in assignments[context.index].rows {
            let (loss, weight, _) = evaluate(Int(row), of: data.rows, view, scratch)
            partial[0] += loss
            partial[1] += weight
          }
        }
      }
      withView(of: raw) { view in
        for position in stride(from: context.index, to: validation.count, by: context.count) {
          let (loss, weight, metric) = evaluate(
            Int(validation[position]), of: data.validationRows, view, scratch)
          partial[2] += loss
          partial[3] += weight
          partial[4] += metric
        }
      }
      sums.withLock { $0[context.index] = partial }
    }
    var total = sums.withLock { rows in (0..<5).map { column in rows.reduce(0) { $0 + $1[column] } } }
    let training = try reducer.allReduce(
      progressive ?? LossTally(loss: total[0], weight: total[1]))
    (total[0], total[1]) = (training.loss, training.weight)
    if data.everywhere != nil {
      // Each process validates on rows of its own: the sums over every process decide.
      let everywhere = try TrainingSet.summed(Array(total[2..<5]), over: data.everywhere)
      total.replaceSubrange(2..<5, with: everywhere)
    }
    let (l1, l2) = (configuration.problem.l1, configuration.problem.l2Strength)
    let penalty =
      shares?.penalty(of: model.weights, outputs: step.outputs, l1: l1, l2: l2)
      ?? model.weights.withUnsafeBufferPointer { Double(Regularization(l1: l1, l2: l2).penalty($0)) }
    return EpochLosses(
      training: total[0] / total[1] + penalty,
      validation: total[3] == 0 ? nil : total[2] / total[3],
      validationMetric: total[3] == 0 ? nil : total[4] / total[3])
  }

  /// Calls `body` with a view of a copy of `model`, which nobody else writes.
  private func withView(of model: (weights: [Float], intercepts: [Float]), _ body: (ModelView) -> Void) {
    var weights = model.weights
    var intercepts = model.intercepts
    weights.withUnsafeMutableBufferPointer { w in
      intercepts.withUnsafeMutableBufferPointer { b in
        body(
          ModelView(
            weights: w, intercepts: b.baseAddress!, sums: UnsafeMutableBufferPointer(start: nil, count: 0)))
      }
    }
  }

  /// Row `row`'s weighted loss, its weight, and its weighted metric term
  /// (1 when classified right, or the squared error).
  @inline(__always)
  private func evaluate(
    _ row: Int, of rows: RowBlock, _ model: ModelView, _ m: UnsafeMutablePointer<Float>
  ) -> (Double, Double, Double) {
    step.margins(PrivateModel.self, row, of: rows, model: model, into: m)
    let y = rows.label(row)
    let weight = Double(rows.weight(row))
    let loss = Double(step.objective.loss(margins: m, label: y)) * weight
    let metric: Double
    if !configuration.problem.loss.isClassification {
      metric = Double((m[0] - y) * (m[0] - y))
    } else {
      // One output: class 1 is y = +1; several: y is the class index.
      let truth = step.outputs == 1 ? (y > 0 ? 1 : 0) : Int(y)
      metric = LinearModel.predictedClass(margins: m, outputs: step.outputs) == truth ? 1 : 0
    }
    return (loss, weight, metric * weight)
  }
}
