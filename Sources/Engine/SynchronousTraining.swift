import Dataset
import Kernels
import Learning

/// Barrier-synchronised gradient descent (strategy `sync`): full-batch `gd`
/// or `minibatch`. This is the source's distributed gradient descent, on the
/// cores of one machine.
///
/// Each step: every worker computes the partial gradient of its share of the
/// batch into its own buffer; after a barrier, each worker sums one slice of
/// coordinates over all buffers in worker order and applies the update there;
/// a second barrier publishes the new model. The sums always run in the same
/// order, so a run is bitwise reproducible for a given thread count and seed.
struct SynchronousTraining<O: Objective>: Sendable {
  let objective: O
  let data: TrainingSet
  /// The model: `columns` weights then the bias (one replica).
  let model: ModelReplicas
  /// Each worker's training rows, and the block it reads them from.
  let rowsOf: [[Int32]]
  let blockOf: [RowBlock]
  /// Per worker: its partial gradient (`columns + 1` floats).
  let gradients: [NodeLocalBuffer]
  /// Per worker: the weight of the rows in its share of the current batch.
  let batchWeights: NodeLocalBuffer
  let configuration: TrainingConfiguration
  let counters: CounterSlots

  /// How many steps an epoch has (the same for every worker).
  func stepsPerEpoch(workers: Int) -> Int {
    let longest = rowsOf.map(\.count).max()!
    guard configuration.algorithm == .minibatch else { return 1 }
    let share = max(1, (configuration.batchSize + workers - 1) / workers)
    return (longest + share - 1) / share
  }

  /// One epoch on worker `context.index`; `stepsBefore` counts the updates
  /// made before it (for the step-size schedule).
  func epoch(_ context: WorkerContext, epoch: Int, stepsBefore: Int) throws {
    let worker = context.index
    let workers = context.count
    let rows =
      configuration.algorithm == .minibatch
      ? RowOrder.shuffled(
        rowsOf[worker], blockRows: data.blockRows, seed: configuration.seed, epoch: epoch, stream: worker)
      : rowsOf[worker]
    let steps = stepsPerEpoch(workers: workers)
    let share =
      configuration.algorithm == .minibatch
      ? max(1, (configuration.batchSize + workers - 1) / workers) : max(rows.count, 1)
    let gradient = gradients[worker].floats
    let columns = model.columns
    let slice = coordinateSlice(worker, of: workers, total: columns + 1)
    let schedule = configuration.stepSizes
    var counter = counters.slot(worker)
    let block = blockOf[worker]

    for step in 0..<steps {
      // g_k = Σ_{i in batch_k} weightᵢ ℓ′(w·xᵢ + b, yᵢ) (xᵢ, 1)
      Dense.scale(0, gradient)
      let lower = min(step * share, rows.count)
      let upper = min(lower + share, rows.count)
      var weightSum: Float = 0
      var nonZeros = block.layout == .dense ? (upper - lower) * columns : 0
      let w = UnsafeBufferPointer(model.weights(0))
      let bias = model.bias(0).pointee
      let g = UnsafeMutableBufferPointer(rebasing: gradient[0..<columns])
      for position in lower..<upper {
        let row = Int(rows[position])
        let y = block.label(row)
        let weight = block.weight(row)
        weightSum += weight
        let d: Float
        switch block.layout {
        case .dense:
          let x = block.denseRow(row)
          d = weight * objective.derivative(margin: Dense.dot(x, w) + bias, label: y)
          Dense.axpy(d, x, g)
        case .csr:
          let x = block.sparseRow(row)
          nonZeros &+= x.indices.count
          d =
            weight
            * objective.derivative(
              margin: Sparse.dot(indices: x.indices, values: x.values, model: w) + bias, label: y)
          Sparse.axpy(d, indices: x.indices, values: x.values, into: g)
        }
        gradient[columns] += d
      }
      batchWeights.floats[worker] = weightSum
      counter.count(examples: upper - lower, nonZeros: nonZeros)
      counter.charge(.compute)
      try context.barrier.arrive()
      counter.charge(.wait)

      var total: Float = 0
      for k in 0..<workers { total += batchWeights.floats[k] }
      if total > 0 {
        let eta = schedule.rate(at: stepsBefore + step)
        let parameters = model.parameters(0)
        let l1 = configuration.l1
        let l2 = configuration.l2
        let adaptive = configuration.adaptiveStep
        for j in slice {
          // G_j = Σ_k g_k[j] in worker order: the fixed order that makes runs reproducible.
          var sum: Float = 0
          for k in 0..<workers { sum += gradients[k].floats[j] }
          let mean = sum / total
          if let adaptive {
            // AdaGrad: coordinate j's own step along Ḡ_j, penalties folded in, the bias unpenalised.
            let sums = model.squaredSums(0).baseAddress! + j
            if j < columns {
              adaptive.update(parameters.baseAddress! + j, sum: sums, gradient: mean)
            } else if configuration.fitIntercept {
              AdaptiveStep(rate: adaptive.rate, epsilon: adaptive.epsilon).update(
                parameters.baseAddress! + j, sum: sums, gradient: mean)
            }
            continue
          }
          if j == columns {
            if configuration.fitIntercept { parameters[j] -= eta * mean }  // b ← b − η Ḡ_b
            continue
          }
          // w_j ← w_j − η (Ḡ_j + λ₂ w_j), then the L1 proximal step
          // w_j ← sign(w_j) max(|w_j| − η λ₁, 0).
          var value = parameters[j] - eta * (mean + l2 * parameters[j])
          if l1 > 0 { value = value > 0 ? max(0, value - eta * l1) : min(0, value + eta * l1) }
          parameters[j] = value
        }
      }
      counter.charge(.merge)
      try context.barrier.arrive()
      counter.charge(.wait)
    }
  }
}
