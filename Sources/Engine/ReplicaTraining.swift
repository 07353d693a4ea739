import CAtomics
import Dataset
import Kernels
import Learning
import Parallel

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
///
/// Mini-batch: each worker sums the gradient of its share of a batch
/// (``RowStep/accumulate``) and applies it to the replica it writes with
/// ``GradientUpdate``, the rule `sync` uses, so the penalty acts once per
/// update as there.
struct ReplicaTraining<O: OutputObjective>: Sendable {
  let step: RowStep<O>
  let data: TrainingSet
  let replicas: ModelReplicas
  /// The replica each worker writes.
  let replicaOf: [Int]
  /// How many workers write each replica.
  let writers: [Int]
  /// Each worker's assignment: its rows and the block it reads them from.
  let assignments: [WorkerAssignment]
  /// Per worker, a private gradient buffer (mini-batch only).
  let gradients: [NodeLocalBuffer]
  /// Per worker, the updates it made since the last meeting.
  let roundCounts: NodeLocalBuffer
  let configuration: TrainingConfiguration
  let counters: CounterSlots
  /// Where each worker leaves the loss of the rows it stepped on.
  let tallies: EpochTallies

  /// Rows per update: 1 for SGD, the batch size (over all workers) for mini-batch.
  var rowsPerUpdate: Int {
    configuration.optimizer.algorithm == .minibatch ? configuration.optimizer.batchSize : 1
  }

  /// One epoch on worker `context.index`; `examplesBefore` is how many
  /// examples each worker had processed before it.
  func epoch(_ context: WorkerContext, epoch: Int, examplesBefore: Int) throws {
    if writers[replicaOf[context.index]] > 1 {
      try run(SharedModel.self, context, epoch: epoch, examplesBefore: examplesBefore)
    } else {
      try run(PrivateModel.self, context, epoch: epoch, examplesBefore: examplesBefore)
    }
  }

  /// The epoch, with the replica written through `S`.
  private func run<S: ModelSharing>(
    _ sharing: S.Type, _ context: WorkerContext, epoch: Int, examplesBefore: Int
  ) throws {
    let worker = context.index
    let assignment = assignments[worker]
    let order = RowOrder.shuffled(
      assignment.rows, blockRows: data.blockRows, seed: configuration.execution.seed, epoch: epoch,
      stream: worker)
    let replica = replicaOf[worker]
    let period = configuration.syncInterval(for: data.rows)
    let rounds = (assignments.map(\.rows.count).max()! + period - 1) / period
    let adaptive = configuration.adaptiveStep
    let minibatch = configuration.optimizer.algorithm == .minibatch
    // SGD under the global schedules applies the penalties lazily at
    // meetings; AdaGrad folds them into each step, mini-batch into each update.
    let lazyPenalty =
      !minibatch && adaptive == nil && (configuration.problem.l1 > 0 || configuration.problem.l2 > 0)
    let meets = replicas.count > 1 || lazyPenalty
    let schedule = configuration.stepSizes
    let workers = context.count
    let perUpdate = rowsPerUpdate
    var examples = examplesBefore

    let batch = max(1, (configuration.optimizer.batchSize + workers - 1) / workers)
    // Read once here, not per row: class properties in the loop would cost
    // reference counting and bounds checks on every step.
    let rows = assignment.block
    let model = replicas.view(replica)
    let parameters = replicas.parameters(replica).baseAddress!
    let sums = model.sums.baseAddress
    let gradient = gradients[worker].floats
    let update = GradientUpdate(weightCount: replicas.weightCount, configuration: configuration)
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: step.outputs)
    defer { scratch.deallocate() }
    let sparse = rows.layout == .csr
    let lookAhead = !sparse && !minibatch && adaptive == nil && step.outputs == 1 && !S.isShared
    // The margin of the row at `position`, when the previous step computed it.
    var pending: Float? = nil
    var counter = counters.slot(worker)
    var tally = LossTally()
    defer { tallies.record(tally, worker: worker) }
    for round in 0..<rounds {
      let lower = min(round * period, order.count)
      let upper = min(lower + period, order.count)
      var updates = 0
      var inBatch = 0
      var batchWeight: Float = 0
      var eta: Float = 0
      var nonZeros = sparse ? 0 : (upper - lower) * rows.columns
      for position in lower..<upper {
        let row = Int(order[position])
        if sparse { nonZeros &+= Int(rows.offsets[row + 1] &- rows.offsets[row]) }
        if minibatch {
          batchWeight += step.accumulate(
            sharing, row, of: rows, model: model, into: gradient, scratch: scratch, tally: &tally)
          inBatch += 1
          if inBatch == batch || position == upper - 1 {
            // The team's update count t ≈ examples seen by all workers / rows per update.
            let eta = schedule.rate(at: (examples &+ position &- lower) &* workers / perUpdate)
            if batchWeight > 0 {
              for j in 0..<gradient.count {
                update.apply(
                  sharing, j, mean: gradient[j] / batchWeight, eta: eta, parameters: parameters, sums: sums)
              }
            }
            Dense.scale(0, gradient)
            updates += 1
            inBatch = 0
            batchWeight = 0
          }
        } else {
          // The schedule counts updates over all workers, t ≈ steps × workers,
          // and is read every 64 steps: `pow` per example cost 20 ns of the
          // ~45 ns a dense 64-feature step takes, and η barely moves in 64 steps.
          if (position - lower) & 63 == 0 {
            eta = schedule.rate(at: (examples &+ position &- lower) &* workers)
          }
          if lookAhead {
            // Dense rows, one output, a private replica: the next row's margin
            // is computed alongside this step (exact, see RowStep.sgdLookingAhead).
            pending = step.sgdLookingAhead(
              row, margin: pending, next: position + 1 < upper ? Int(order[position + 1]) : nil, of: rows,
              eta: eta, model: model, scratch: scratch, tally: &tally)
          } else if let adaptive {
            step.adagrad(
              sharing, row, of: rows, step: adaptive, model: model, scratch: scratch, tally: &tally)
          } else {
            step.sgd(sharing, row, of: rows, eta: eta, model: model, scratch: scratch, tally: &tally)
          }
          updates += 1
        }
      }
      examples &+= upper - lower
      counter.count(examples: upper - lower, nonZeros: nonZeros)
      counter.charge(.compute)
      if meets {
        roundCounts.floats[worker] = Float(updates)
        try context.barrier.arrive()
        counter.charge(.wait)
        meet(context, eta: schedule.rate(at: examples &* workers / perUpdate), lazyPenalty: lazyPenalty)
        counter.charge(.merge)
        try context.barrier.arrive()
        counter.charge(.wait)
      }
    }
  }

  /// At a meeting each worker takes its slice of coordinates and merges the
  /// replicas there.
  ///
  /// Under the global schedules it first regularises every replica for the
  /// steps its writers took since the last meeting (L2 as the decay
  /// (1 − ηλ₂)ᵏ, L1 as a clip by k η λ₁). Then:
  ///
  /// - **dense rows**: every coordinate becomes its mean over the replicas.
  ///   Every row moves every weight, so each replica has taken the whole
  ///   step towards its rows' optimum and adding the moves would overshoot.
  /// - **sparse rows**: the weights add up the replicas' changes since the
  ///   last merge, what one shared model would have received,
  ///
  ///       w̄ⱼ ← w̄ⱼ + Σᵣ (wᵣⱼ − w̄ⱼ),
  ///
  ///   and only the intercepts, which every row moves, are averaged. A
  ///   feature that one replica's rows hold then keeps that replica's whole
  ///   update instead of half of it: averaging lost the one-thread loss on
  ///   power-law rows (0.5677 against 0.5183 measured), adding up matched it.
  ///   (Adding the intercepts' changes too overshot and diverged.)
  ///
  /// Under AdaGrad the changes add up, weights, intercepts and sums alike:
  ///
  ///     w̄ⱼ ← w̄ⱼ + Σᵣ (wᵣⱼ − w̄ⱼ),   Ḡⱼ ← Ḡⱼ + Σᵣ (Gᵣⱼ − Ḡⱼ)
  ///
  /// with w̄, Ḡ what all replicas held after the last merge. A frequent
  /// feature's sum has grown with every replica's squared gradients, so its
  /// steps are already small and two moves do not overshoot. On RCV1-like
  /// data per-core then needs no more epochs than one shared model
  /// (averaging needed a third more).
  private func meet(_ context: WorkerContext, eta: Float, lazyPenalty: Bool) {
    let weightCount = replicas.weightCount
    let slice = coordinateSlice(context.index, of: context.count, total: replicas.parameterCount)
    guard configuration.adaptiveStep == nil else {
      guard replicas.count > 1 else { return }
      addChanges(slice, of: replicas.parameters, since: replicas.mergedParameters)
      addChanges(slice, of: replicas.squaredSums, since: replicas.mergedSquaredSums)
      return
    }
    var steps = [Float](repeating: 0, count: replicas.count)
    for worker in 0..<context.count { steps[replicaOf[worker]] += roundCounts.floats[worker] }
    let l1 = configuration.problem.l1
    let l2 = configuration.problem.l2
    for r in 0..<replicas.count where lazyPenalty {
      let decay = l2 > 0 ? Float(pow(Double(max(0, 1 - eta * l2)), Double(steps[r]))) : 1
      let clip = eta * l1 * steps[r]
      let model = replicas.parameters(r)
      for j in slice where j < weightCount {
        var value = model[j] * decay
        if clip > 0 { value = value > 0 ? max(0, value - clip) : min(0, value + clip) }
        model[j] = value
      }
    }
    guard replicas.count > 1 else { return }
    if replicas.mergedParameters.isEmpty {
      average(slice, of: replicas.parameters)
    } else {
      addChanges(
        slice.clamped(to: 0..<weightCount), of: replicas.parameters, since: replicas.mergedParameters)
      average(slice.clamped(to: weightCount..<replicas.parameterCount), of: replicas.parameters)
    }
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
