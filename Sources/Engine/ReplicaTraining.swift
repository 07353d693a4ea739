import CAtomics
import Dataset
import Kernels
import Learning

/// SGD and mini-batch SGD for the replica strategies: `hogwild` (one replica
/// written by all workers), `per-node` (one per NUMA node) and `per-core`
/// (one per worker). One loop serves all three; they differ only in which
/// replica a worker writes and how many workers share it.
///
/// Every `syncEvery` examples per worker (and at the end of the epoch) the
/// workers meet at a barrier and, each on its own slice of coordinates,
/// apply the regulariser for the steps since the last meeting and average the
/// replicas (under AdaGrad: add up their changes; see `meet`). Regularising
/// there, not at every step, keeps a sparse step at O(non-zeros): L2 as the
/// decay `(1 − ηλ₂)ᵏ` of those k steps, L1 as the truncated gradient of
/// Langford, Li and Zhang (2009) with period k.
struct ReplicaTraining<O: Objective>: Sendable {
  let objective: O
  let data: TrainingSet
  let replicas: ModelReplicas
  /// The replica each worker writes.
  let replicaOf: [Int]
  /// How many workers write each replica.
  let writers: [Int]
  /// Each worker's training rows (its partitions, concatenated), and the
  /// block it reads them from.
  let rowsOf: [[Int32]]
  let blockOf: [RowBlock]
  /// Per worker, a private gradient buffer (mini-batch only).
  let gradients: [NodeLocalBuffer]
  /// Per worker, the examples it processed since the last meeting.
  let roundCounts: NodeLocalBuffer
  let configuration: TrainingConfiguration
  let counters: CounterSlots

  /// One epoch on worker `context.index`; `stepsBefore` is how many examples
  /// each worker had processed before it (for the step-size schedule).
  func epoch(_ context: WorkerContext, epoch: Int, stepsBefore: Int) throws {
    let worker = context.index
    let order = RowOrder.shuffled(
      rowsOf[worker], blockRows: data.blockRows, seed: configuration.seed, epoch: epoch, stream: worker)
    let replica = replicaOf[worker]
    let shared = writers[replica] > 1
    let period = configuration.syncInterval(for: data.rows)
    let rounds = (rowsOf.map(\.count).max()! + period - 1) / period
    let adaptive = configuration.adaptiveStep
    // Under the global schedules the penalties are applied lazily at meetings;
    // AdaGrad folds them into each step.
    let regularized = adaptive == nil && (configuration.l1 > 0 || configuration.l2 > 0)
    let meets = replicas.count > 1 || regularized
    let schedule = configuration.stepSizes
    let workers = context.count
    var step = stepsBefore

    let batch = max(1, (configuration.batchSize + workers - 1) / workers)
    // Read once here, not per row: class properties in the loop would cost
    // reference counting and bounds checks on every step.
    let rows = blockOf[worker]
    let model = replicas.weights(replica)
    let biasPointer = replicas.bias(replica)
    let sums =
      adaptive == nil
      ? UnsafeMutableBufferPointer<Float>(start: nil, count: 0) : replicas.squaredSums(replica)
    let fitIntercept = configuration.fitIntercept
    let minibatch = configuration.algorithm == .minibatch
    let sparse = rows.layout == .csr
    var counter = counters.slot(worker)
    for round in 0..<rounds {
      let lower = min(round * period, order.count)
      let upper = min(lower + period, order.count)
      var inBatch = 0
      var eta: Float = 0
      var nonZeros = sparse ? 0 : (upper - lower) * rows.columns
      for position in lower..<upper {
        // The schedule counts examples over all workers, t ≈ steps × workers,
        // and is read every 64 steps: `pow` per example cost 20 ns of the
        // ~45 ns a dense 64-feature step takes, and η barely moves in 64 steps.
        if (position - lower) & 63 == 0 { eta = schedule.rate(at: step &* workers) }
        let row = Int(order[position])
        if sparse { nonZeros &+= Int(rows.offsets[row + 1] &- rows.offsets[row]) }
        if minibatch {
          accumulate(row: row, of: rows, into: gradients[worker].floats, replica: replica, shared: shared)
          inBatch += 1
          if inBatch == batch || position == upper - 1 {
            apply(
              gradients[worker].floats, rows: inBatch, eta: eta, replica: replica, shared: shared,
              adaptive: adaptive)
            inBatch = 0
          }
        } else {
          if let adaptive {
            adaptiveStep(
              row: row, of: rows, step: adaptive, model: model, bias: biasPointer, sums: sums,
              shared: shared, fitIntercept: fitIntercept)
          } else {
            sgdStep(
              row: row, of: rows, eta: eta, model: model, bias: biasPointer, shared: shared,
              fitIntercept: fitIntercept)
          }
        }
        step &+= 1
      }
      counter.count(examples: upper - lower, nonZeros: nonZeros)
      counter.charge(.compute)
      if meets {
        roundCounts.floats[worker] = Float(upper - lower)
        try context.barrier.arrive()
        counter.charge(.wait)
        meet(context, eta: schedule.rate(at: step &* workers))
        counter.charge(.merge)
        try context.barrier.arrive()
        counter.charge(.wait)
      }
    }
  }

  /// One SGD step on `row`:
  ///     d ← ℓ′(w·x + b, y) · weight
  ///     w ← w − η d x,   b ← b − η d
  @inline(__always)
  private func sgdStep(
    row: Int, of rows: RowBlock, eta: Float, model: UnsafeMutableBufferPointer<Float>,
    bias biasPointer: UnsafeMutablePointer<Float>, shared: Bool, fitIntercept: Bool
  ) {
    let y = rows.label(row)
    let weight = rows.weight(row)
    let bias = shared ? catomics_load_relaxed(biasPointer) : biasPointer.pointee
    var d: Float = 0
    switch rows.layout {
    case .dense:
      let x = rows.denseRow(row)
      if shared {
        // The documented racy SIMD kernel: see Kernels.Shared.racyStep.
        Shared.racyStep(x, model: model) { margin in
          d = weight * objective.derivative(margin: margin + bias, label: y)
          return -eta * d
        }
      } else {
        Dense.step(x, model) { margin in
          d = weight * objective.derivative(margin: margin + bias, label: y)
          return -eta * d
        }
      }
    case .csr:
      let x = rows.sparseRow(row)
      if shared {
        let margin = Shared.sparseDot(indices: x.indices, values: x.values, model: model)
        d = weight * objective.derivative(margin: margin + bias, label: y)
        Shared.sparseAxpy(-eta * d, indices: x.indices, values: x.values, model: model)
      } else {
        let margin = Sparse.dot(indices: x.indices, values: x.values, model: UnsafeBufferPointer(model))
        d = weight * objective.derivative(margin: margin + bias, label: y)
        Sparse.axpy(-eta * d, indices: x.indices, values: x.values, into: model)
      }
    }
    if fitIntercept {
      if shared { catomics_add_relaxed(biasPointer, -eta * d) } else { biasPointer.pointee -= eta * d }
    }
  }

  /// One AdaGrad step on `row` (see ``Kernels/AdaptiveStep``): with
  /// `d = ℓ′(w·x + b, y) · weight`, coordinate `i` steps by `η₀ / √(Gᵢ + ε²)`
  /// along `d xᵢ` (plus its penalties), the bias along `d`. `model` and
  /// `sums` are the replica's weights and its `columns + 1` sums (the bias's last).
  @inline(__always)
  private func adaptiveStep(
    row: Int, of rows: RowBlock, step: AdaptiveStep, model: UnsafeMutableBufferPointer<Float>,
    bias biasPointer: UnsafeMutablePointer<Float>, sums: UnsafeMutableBufferPointer<Float>, shared: Bool,
    fitIntercept: Bool
  ) {
    let columns = model.count
    let weightSums = UnsafeMutableBufferPointer(rebasing: sums[0..<columns])
    let biasSum = sums.baseAddress! + columns
    let y = rows.label(row)
    let weight = rows.weight(row)
    let bias = shared ? catomics_load_relaxed(biasPointer) : biasPointer.pointee
    let d: Float
    switch rows.layout {
    case .dense:
      let x = rows.denseRow(row)
      let margin = shared ? Shared.dot(x, model: model) : Dense.dot(x, UnsafeBufferPointer(model))
      d = weight * objective.derivative(margin: margin + bias, label: y)
      // On a shared model this is the documented race of Shared.racyStep.
      step.step(derivative: d, dense: x, model: model, sums: weightSums)
    case .csr:
      let x = rows.sparseRow(row)
      if shared {
        let margin = Shared.sparseDot(indices: x.indices, values: x.values, model: model)
        d = weight * objective.derivative(margin: margin + bias, label: y)
        step.sharedStep(derivative: d, indices: x.indices, values: x.values, model: model, sums: weightSums)
      } else {
        let margin = Sparse.dot(indices: x.indices, values: x.values, model: UnsafeBufferPointer(model))
        d = weight * objective.derivative(margin: margin + bias, label: y)
        step.step(derivative: d, indices: x.indices, values: x.values, model: model, sums: weightSums)
      }
    }
    guard fitIntercept else { return }
    // The bias is not penalised.
    let unpenalised = AdaptiveStep(rate: step.rate, epsilon: step.epsilon)
    if shared {
      unpenalised.sharedUpdate(biasPointer, sum: biasSum, gradient: d)
    } else {
      unpenalised.update(biasPointer, sum: biasSum, gradient: d)
    }
  }

  /// Adds `ℓ′(w·x + b, y) · weight · (x, 1)` for `row` to a worker's
  /// gradient, with the margin from the replica the worker writes.
  @inline(__always)
  private func accumulate(
    row: Int, of rows: RowBlock, into gradient: UnsafeMutableBufferPointer<Float>, replica: Int, shared: Bool
  ) {
    let model = replicas.weights(replica)
    let bias = catomics_load_relaxed(replicas.bias(replica))
    let columns = rows.columns
    let g = UnsafeMutableBufferPointer(rebasing: gradient[0..<columns])
    let y = rows.label(row)
    let weight = rows.weight(row)
    let d: Float
    switch rows.layout {
    case .dense:
      let x = rows.denseRow(row)
      let margin = shared ? Shared.dot(x, model: model) : Dense.dot(x, UnsafeBufferPointer(model))
      d = weight * objective.derivative(margin: margin + bias, label: y)
      Dense.axpy(d, x, g)
    case .csr:
      let x = rows.sparseRow(row)
      let margin = Shared.sparseDot(indices: x.indices, values: x.values, model: model)
      d = weight * objective.derivative(margin: margin + bias, label: y)
      Sparse.axpy(d, indices: x.indices, values: x.values, into: g)
    }
    gradient[columns] += d
  }

  /// w ← w − (η / rows) g, then g ← 0; under AdaGrad, each coordinate's
  /// own step along its mean gradient `gᵢ / rows`.
  private func apply(
    _ gradient: UnsafeMutableBufferPointer<Float>, rows: Int, eta: Float, replica: Int, shared: Bool,
    adaptive: AdaptiveStep?
  ) {
    let columns = replicas.columns
    let scale = -eta / Float(rows)
    let model = replicas.weights(replica)
    if let adaptive {
      let parameters = replicas.parameters(replica).baseAddress!
      let sums = replicas.squaredSums(replica).baseAddress!
      let unpenalised = AdaptiveStep(rate: adaptive.rate, epsilon: adaptive.epsilon)
      for j in 0...columns where j < columns || configuration.fitIntercept {
        let step = j < columns ? adaptive : unpenalised
        let mean = gradient[j] / Float(rows)
        if shared {
          step.sharedUpdate(parameters + j, sum: sums + j, gradient: mean)
        } else {
          step.update(parameters + j, sum: sums + j, gradient: mean)
        }
      }
      Dense.scale(0, gradient)
      return
    }
    let g = UnsafeBufferPointer(rebasing: gradient[0..<columns])
    if shared { Shared.axpy(scale, g, model: model) } else { Dense.axpy(scale, g, model) }
    if configuration.fitIntercept { catomics_add_relaxed(replicas.bias(replica), scale * gradient[columns]) }
    Dense.scale(0, gradient)
  }

  /// At a meeting each worker takes its slice of coordinates and merges the
  /// replicas there.
  ///
  /// Under the global schedules it regularises every replica for the steps
  /// its writers took since the last meeting (L2 as the decay (1 − ηλ₂)ᵏ, L1
  /// as a clip by k η λ₁) and replaces each coordinate by its mean over the
  /// replicas. Averaging is the stable merge there. Adding the replicas'
  /// changes instead (what one shared model would have received) matched one
  /// thread's loss on sparse data at some sync intervals but diverged at
  /// others, because the bias and frequent features move most of the way to
  /// each worker's local optimum between meetings, and two such moves
  /// overshoot.
  ///
  /// Under AdaGrad the changes add up, weights and sums alike:
  ///
  ///     w̄ⱼ ← w̄ⱼ + Σᵣ (wᵣⱼ − w̄ⱼ),   Ḡⱼ ← Ḡⱼ + Σᵣ (Gᵣⱼ − Ḡⱼ)
  ///
  /// with w̄, Ḡ what all replicas held after the last merge. A frequent
  /// feature's sum has grown with every replica's squared gradients, so its
  /// steps are already small and two moves do not overshoot, while a feature
  /// that one replica's rows hold keeps that replica's whole update instead
  /// of half of it. On RCV1-like data per-core then needs no more epochs
  /// than one shared model (averaging needed a third more).
  private func meet(_ context: WorkerContext, eta: Float) {
    let columns = replicas.columns
    let slice = coordinateSlice(context.index, of: context.count, total: columns + 1)
    guard configuration.adaptiveStep == nil else {
      guard replicas.count > 1 else { return }
      addChanges(slice, of: replicas.parameters, since: replicas.mergedParameters)
      addChanges(slice, of: replicas.squaredSums, since: replicas.mergedSquaredSums)
      return
    }
    var steps = [Float](repeating: 0, count: replicas.count)
    for worker in 0..<context.count { steps[replicaOf[worker]] += roundCounts.floats[worker] }
    let l1 = configuration.l1
    let l2 = configuration.l2
    for r in 0..<replicas.count where l1 > 0 || l2 > 0 {
      let decay = l2 > 0 ? Float(pow(Double(max(0, 1 - eta * l2)), Double(steps[r]))) : 1
      let clip = eta * l1 * steps[r]
      let model = replicas.parameters(r)
      for j in slice where j < columns {
        var value = model[j] * decay
        if clip > 0 { value = value > 0 ? max(0, value - clip) : min(0, value + clip) }
        model[j] = value
      }
    }
    guard replicas.count > 1 else { return }
    average(slice, of: replicas.parameters)
  }

  /// Replaces coordinates `slice` of every replica's buffer by their mean.
  private func average(_ slice: Range<Int>, of buffer: (Int) -> UnsafeMutableBufferPointer<Float>) {
    // The replicas' base addresses, read once: a buffer looked up per
    // coordinate costs reference counting in the loop.
    let buffers = (0..<replicas.count).map { buffer($0).baseAddress! }
    let share = 1 / Float(replicas.count)
    for j in slice {
      var sum: Float = 0
      for b in buffers { sum += b[j] }
      let mean = sum * share
      for b in buffers { b[j] = mean }
    }
  }

  /// Moves coordinates `slice` of `base` by every replica's change since the
  /// last merge, and sets every replica to the result.
  private func addChanges(
    _ slice: Range<Int>, of buffer: (Int) -> UnsafeMutableBufferPointer<Float>,
    since base: UnsafeMutableBufferPointer<Float>
  ) {
    let buffers = (0..<replicas.count).map { buffer($0).baseAddress! }
    for j in slice {
      // w̄ⱼ ← w̄ⱼ + Σᵣ (wᵣⱼ − w̄ⱼ), then every wᵣⱼ ← w̄ⱼ
      let before = base[j]
      var value = before
      for b in buffers { value += b[j] - before }
      base[j] = value
      for b in buffers { b[j] = value }
    }
  }

}

#if canImport(Glibc)
  import Glibc
#endif
