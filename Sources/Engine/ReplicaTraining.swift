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
/// apply the regulariser for the steps since the last meeting and merge the
/// replicas (dense rows: their mean; sparse rows and AdaGrad: their changes,
/// added up with a cap; see `meet`). Regularising
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
  /// - **dense rows** (no merged state kept): every coordinate becomes its
  ///   mean over the replicas. Every row moves every weight, so each replica
  ///   has taken the whole step towards its rows' optimum and adding the
  ///   moves would overshoot.
  /// - **sparse rows, and AdaGrad**: a coordinate moves by the changes of
  ///   the replicas whose steps moved it, added up while at most two did and
  ///   twice their mean beyond that,
  ///
  ///       w̄ⱼ ← w̄ⱼ + Σᵣ (wᵣⱼ − w̄ⱼ) / max(1, mⱼ / 2),
  ///
  ///   with w̄ what all replicas held after the last merge and mⱼ the number
  ///   of replicas that moved coordinate j; the intercepts, which every row
  ///   moves, take the mean change. A feature that one replica's rows hold
  ///   keeps that replica's whole update, what one shared model would have
  ///   received (plain averaging halved it and lost the one-thread loss on
  ///   power-law rows: 0.5677 against 0.5183), and two replicas' changes add
  ///   up as before. Adding up every replica's change diverged past four
  ///   replicas: each moved the frequent features from the same stale model,
  ///   and on 16 cores the loss after three epochs rose from 0.213 to 14.9
  ///   under AdaGrad and to 2.69 under `inverse-scaling` (1,000,000 power-law
  ///   rows of 80 over 50,000 features). Capped at twice the mean, 4, 8 and
  ///   16 replicas all descend, each epoch up to 10× faster than one thread
  ///   but to a higher loss per epoch (BENCHMARKS.md, "Thread scaling"). No
  ///   rule tried that adds more (a mean over √mⱼ, or AdaGrad's own
  ///   per-replica scaling) stayed stable on 16 cores. A coordinate no step
  ///   moved takes every replica's regularisation, as a shared model decays
  ///   by all its workers' steps.
  ///
  ///   AdaGrad's sums of squared gradients add up, Ḡⱼ ← Ḡⱼ + Σᵣ (Gᵣⱼ − Ḡⱼ):
  ///   they count every gradient all replicas saw, as one model's would.
  private func meet(_ context: WorkerContext, eta: Float, lazyPenalty: Bool) {
    let slice = coordinateSlice(context.index, of: context.count, total: replicas.parameterCount)
    var steps = [Float](repeating: 0, count: replicas.count)
    for worker in 0..<context.count { steps[replicaOf[worker]] += roundCounts.floats[worker] }
    let l1 = configuration.problem.l1
    let l2 = configuration.problem.l2
    let penalties = steps.map { steps in
      lazyPenalty
        ? LazyPenalty(
          decay: l2 > 0 ? Float(pow(Double(max(0, 1 - eta * l2)), Double(steps))) : 1, clip: eta * l1 * steps)
        : LazyPenalty(decay: 1, clip: 0)
    }
    let penalised = slice.clamped(to: 0..<(lazyPenalty ? replicas.weightCount : 0))
    if replicas.mergedParameters.isEmpty {
      // One replica, or dense rows: regularise, then average.
      for r in 0..<replicas.count where lazyPenalty {
        let model = replicas.parameters(r)
        for j in penalised { model[j] = penalties[r].apply(model[j]) }
      }
      if replicas.count > 1 { average(slice, of: replicas.parameters) }
      return
    }
    ReplicaMerge.addChanges(
      slice, base: replicas.mergedParameters.baseAddress!,
      replicas: (0..<replicas.count).map { replicas.parameters($0).baseAddress! },
      weightCount: replicas.weightCount, penalised: penalised, penalties: penalties)
    if configuration.adaptiveStep != nil {
      ReplicaMerge.addUp(
        slice, base: replicas.mergedSquaredSums.baseAddress!,
        replicas: (0..<replicas.count).map { replicas.squaredSums($0).baseAddress! })
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
}

/// The L2 decay and L1 clip a replica's weights take at a meeting for the
/// steps its writers took since the last one.
struct LazyPenalty {
  let decay: Float
  let clip: Float

  @inline(__always)
  func apply(_ weight: Float) -> Float {
    let value = weight * decay
    guard clip > 0 else { return value }
    return value > 0 ? max(0, value - clip) : min(0, value + clip)
  }
}

/// The merge of replicas that keep the state of their last merge (sparse
/// rows, AdaGrad): the rule `ReplicaTraining.meet` explains, over the
/// coordinates one worker owns.
enum ReplicaMerge {
  /// Sets coordinates `slice` of `base` (what every replica held after the
  /// last merge) and of every replica to `base` moved by the changes of the
  /// replicas that moved each coordinate: added up for up to two movers,
  /// twice their mean beyond; the intercepts (coordinates from
  /// `weightCount` on) take the mean change. Coordinates in `penalised` are
  /// regularised by each replica's penalty first.
  ///
  /// Invariants the caller keeps: every pointer addresses at least
  /// `slice.upperBound` floats, `penalties` has one entry per replica, and
  /// no other thread reads or writes `slice` of these buffers meanwhile.
  static func addChanges(
    _ slice: Range<Int>, base: UnsafeMutablePointer<Float>, replicas: [UnsafeMutablePointer<Float>],
    weightCount: Int, penalised: Range<Int>, penalties: [LazyPenalty]
  ) {
    for j in slice {
      let before = base[j]
      var change: Float = 0
      var movers: Float = 0
      let regularised = penalised.contains(j)
      for r in replicas.indices {
        let value = replicas[r][j]
        if value != before { movers += 1 }
        change += (regularised ? penalties[r].apply(value) : value) - before
      }
      let merged = before + change / max(1, j < weightCount ? movers / 2 : movers)
      base[j] = merged
      for replica in replicas { replica[j] = merged }
    }
  }

  /// Sets coordinates `slice` of `base` and of every replica to `base` plus
  /// every replica's change: the sums of squared gradients, which count the
  /// gradients all replicas saw. The invariants of ``addChanges`` hold.
  static func addUp(
    _ slice: Range<Int>, base: UnsafeMutablePointer<Float>, replicas: [UnsafeMutablePointer<Float>]
  ) {
    for j in slice {
      let before = base[j]
      var value = before
      for replica in replicas { value += replica[j] - before }
      base[j] = value
      for replica in replicas { replica[j] = value }
    }
  }
}

#if canImport(Glibc)
  import Glibc
#endif
