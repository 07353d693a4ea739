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
  /// Combines the replicas of other processes at every meeting.
  let reducer: any Reducer
  /// The merge's totals (``ReplicaMerge``): 4 × ``ModelReplicas/parameterCount`` floats,
  /// the parameters' then AdaGrad's sums'.
  let mergeTotals: NodeLocalBuffer
  /// The most rows any worker of any process holds: every worker of every
  /// process meets as often.
  let longest: Int

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
      stream: reducer.rank * context.count + worker)
    let replica = replicaOf[worker]
    let period = configuration.syncInterval(
      layout: data.rows.layout, columns: data.rows.columns, nonZeros: data.nonZerosEverywhere,
      rows: data.rowCountEverywhere)
    let rounds = (longest + period - 1) / period
    let adaptive = configuration.adaptiveStep
    let minibatch = configuration.optimizer.algorithm == .minibatch
    // SGD under the global schedules applies the penalties lazily at
    // meetings; AdaGrad folds them into each step, mini-batch into each update.
    let lazyPenalty =
      !minibatch && adaptive == nil && (configuration.problem.l1 > 0 || configuration.problem.l2Strength > 0)
    let meets = replicas.count > 1 || lazyPenalty || reducer.processes > 1
    let schedule = configuration.stepSizes
    // Every worker of every process: the schedule counts their updates, and a batch is shared among them.
    let workers = context.count * reducer.processes
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
        // The step size at the meeting from the round's end, the same for
        // every worker and process (their own counts differ by their rows).
        let reached = examplesBefore + min((round + 1) * period, longest)
        try meet(context, eta: schedule.rate(at: reached &* workers / perUpdate), lazyPenalty: lazyPenalty)
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
  private func meet(_ context: WorkerContext, eta: Float, lazyPenalty: Bool) throws {
    precondition(mergeTotals.floats.count >= 4 * replicas.parameterCount, "the merge's totals are too small")
    let slice = coordinateSlice(context.index, of: context.count, total: replicas.parameterCount)
    var steps = [Float](repeating: 0, count: replicas.count)
    for worker in 0..<context.count { steps[replicaOf[worker]] += roundCounts.floats[worker] }
    let l1 = configuration.problem.l1
    let l2 = configuration.problem.l2Strength
    let penalties = steps.map { steps in
      lazyPenalty
        ? LazyPenalty(
          decay: l2 > 0 ? Float(pow(Double(max(0, 1 - eta * l2)), Double(steps))) : 1, clip: eta * l1 * steps)
        : LazyPenalty(decay: 1, clip: 0)
    }
    let merge = ReplicaMerge(
      base: replicas.mergedParameters.baseAddress,
      replicas: (0..<replicas.count).map { replicas.parameters($0).baseAddress! },
      weightCount: replicas.weightCount, totals: mergeTotals.floats.baseAddress!,
      coordinates: replicas.parameterCount,
      replicasEverywhere: replicas.count * reducer.processes)
    let sums =
      configuration.adaptiveStep == nil
      ? nil
      : ReplicaMerge(
        base: replicas.mergedSquaredSums.baseAddress,
        replicas: (0..<replicas.count).map { replicas.squaredSums($0).baseAddress! },
        weightCount: replicas.weightCount,
        totals: mergeTotals.floats.baseAddress! + 2 * replicas.parameterCount,
        coordinates: replicas.parameterCount, replicasEverywhere: replicas.count * reducer.processes)
    let penalised = slice.clamped(to: 0..<(lazyPenalty ? replicas.weightCount : 0))
    let rule: ReplicaMerge.Rule = replicas.mergedParameters.isEmpty ? .average : .capped
    guard reducer.processes > 1 else {
      merge.merge(slice, penalised: penalised, penalties: penalties, rule: rule)
      sums?.merge(slice, penalised: 0..<0, penalties: [], rule: .sum)
      return
    }
    // Phase 1: this process's totals over its replicas, each worker on its slice.
    merge.gather(slice, penalised: penalised, penalties: penalties)
    sums?.gather(slice, penalised: 0..<0, penalties: [])
    // ... summed over every process by one worker, in rank order.
    try context.barrier.arrive()
    if context.index == 0 {
      try reducer.allReduceSum(
        UnsafeMutableBufferPointer(
          start: mergeTotals.floats.baseAddress!, count: (sums == nil ? 2 : 4) * replicas.parameterCount))
    }
    try context.barrier.arrive()
    // Phase 2: the merged value into the merged state and every replica.
    merge.apply(slice, rule: rule)
    sums?.apply(slice, rule: .sum)
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

  /// ``apply(_:)`` lane by lane.
  @inline(__always)
  func apply(_ weights: SIMD8<Float>) -> SIMD8<Float> {
    let value = weights * decay
    guard clip > 0 else { return value }
    let lowered = value - clip
    let raised = value + clip
    return raised.replacing(with: 0, where: raised .> 0).replacing(
      with: lowered.replacing(with: 0, where: lowered .< 0), where: value .> 0)
  }
}

/// The merge of the replicas of every process at a meeting (the rules
/// `ReplicaTraining.meet` explains), in two phases so that processes can sum
/// their totals in between: ``gather`` each coordinate's total over this
/// process's replicas, then (after those totals are summed over processes)
/// ``apply`` the merged value. In one process the two follow each other.
///
/// Invariants the caller keeps: `base` (when not nil) and every replica
/// address `coordinates` floats, `totals` `2 × coordinates` floats (the
/// changes or values, then the movers); `penalties` has one entry per
/// replica; between `gather` and `apply` nobody writes the replicas; and no
/// two threads touch the same coordinates.
struct ReplicaMerge {
  /// What every replica held after the last merge (`nil`: none is kept,
  /// dense rows average).
  let base: UnsafeMutablePointer<Float>?
  let replicas: [UnsafeMutablePointer<Float>]
  /// Coordinates from here on are intercepts.
  let weightCount: Int
  let totals: UnsafeMutablePointer<Float>
  let coordinates: Int
  /// Replicas over every process.
  let replicasEverywhere: Int

  enum Rule {
    /// The mean of every replica.
    case average
    /// The base moved by its movers' changes: added up while at most two
    /// moved it, twice their mean beyond (intercepts: the mean).
    case capped
    /// The base moved by every replica's change (AdaGrad's sums).
    case sum
  }

  /// Per coordinate of `slice`: with a base, the sum of the replicas'
  /// changes from it (regularised first in `penalised`) and how many moved
  /// it; without, the sum of the replicas' values.
  func gather(_ slice: Range<Int>, penalised: Range<Int>, penalties: [LazyPenalty]) {
    let movers = totals + coordinates
    for j in slice {
      (totals[j], movers[j]) = total(j, regularised: penalised.contains(j), penalties: penalties)
    }
  }

  /// Sets coordinates `slice` of the base and of every replica to the
  /// merged value from the totals.
  func apply(_ slice: Range<Int>, rule: Rule) {
    let movers = totals + coordinates
    for j in slice { set(j, merged(j, total: totals[j], movers: movers[j], rule: rule)) }
  }

  /// ``gather`` then ``apply`` in one pass, for a process with no others to
  /// wait for (the totals are not written). Eight weights at a time where
  /// the eight are alike (all penalised or none): the same arithmetic, lane
  /// by lane, as one at a time (0.036 → 0.009 s of merging in five epochs
  /// of sparse AdaGrad on two replicas of 50,000 features).
  func merge(_ slice: Range<Int>, penalised: Range<Int>, penalties: [LazyPenalty], rule: Rule) {
    let weights = min(slice.upperBound, weightCount)
    var j = slice.lowerBound
    while j < slice.upperBound {
      let eight = j..<j + 8
      let inside = penalised.lowerBound <= j && eight.upperBound <= penalised.upperBound
      let outside = penalised.isEmpty || penalised.upperBound <= j || eight.upperBound <= penalised.lowerBound
      if eight.upperBound <= weights, inside || outside {
        mergeEight(j, regularised: inside, penalties: penalties, rule: rule)
        j += 8
        continue
      }
      let (total, movers) = total(j, regularised: penalised.contains(j), penalties: penalties)
      set(j, merged(j, total: total, movers: movers, rule: rule))
      j += 1
    }
  }

  /// ``merge(_:penalised:penalties:rule:)`` for weights `j..<j + 8`.
  @inline(__always)
  private func mergeEight(_ j: Int, regularised: Bool, penalties: [LazyPenalty], rule: Rule) {
    func load(_ address: UnsafeMutablePointer<Float>) -> SIMD8<Float> {
      UnsafeRawPointer(address).loadUnaligned(as: SIMD8<Float>.self)
    }
    let before = base.map { load($0 + j) } ?? SIMD8<Float>()
    var change = SIMD8<Float>()
    var movers = SIMD8<Float>()
    for r in replicas.indices {
      let value = load(replicas[r] + j)
      // A replica that moved a weight made it differ, one way or the other.
      movers = movers.replacing(with: movers + 1, where: value .< before)
      movers = movers.replacing(with: movers + 1, where: value .> before)
      change += (regularised ? penalties[r].apply(value) : value) - before
    }
    let merged: SIMD8<Float>
    switch rule {
    case .average: merged = change / Float(replicasEverywhere)
    case .capped:
      let half = movers / 2
      merged = before + change / half.replacing(with: 1, where: half .< 1)
    case .sum: merged = before + change
    }
    if let base { UnsafeMutableRawPointer(base + j).storeBytes(of: merged, as: SIMD8<Float>.self) }
    for replica in replicas {
      UnsafeMutableRawPointer(replica + j).storeBytes(of: merged, as: SIMD8<Float>.self)
    }
  }

  /// Coordinate `j`'s total over this process's replicas and how many moved it.
  @inline(__always)
  private func total(_ j: Int, regularised: Bool, penalties: [LazyPenalty]) -> (Float, Float) {
    let before = base?[j] ?? 0
    var change: Float = 0
    var moved: Float = 0
    for r in replicas.indices {
      let value = replicas[r][j]
      if value != before { moved += 1 }
      change += (regularised ? penalties[r].apply(value) : value) - before
    }
    return (change, moved)
  }

  @inline(__always)
  private func merged(_ j: Int, total: Float, movers: Float, rule: Rule) -> Float {
    switch rule {
    case .average: total / Float(replicasEverywhere)
    case .capped: base![j] + total / max(1, j < weightCount ? movers / 2 : movers)
    case .sum: base![j] + total
    }
  }

  @inline(__always)
  private func set(_ j: Int, _ value: Float) {
    base?[j] = value
    for replica in replicas { replica[j] = value }
  }
}

#if canImport(Glibc)
  import Glibc
#endif
