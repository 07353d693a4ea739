import Dataset
import Kernels
import Learning
import Parallel

/// Barrier-synchronised gradient descent (strategy `sync`): full-batch `gd`
/// or `minibatch`. This is the source's distributed gradient descent, on the
/// cores of one machine, and across processes through a ``Reducer``.
///
/// Each step has three phases:
/// 1. **compute**: every worker sums the weighted loss gradient of its share
///    of the batch into its own buffer (``RowStep/accumulate``);
/// 2. **reduce**: after a barrier, each worker sums one slice of coordinates
///    over all buffers in worker order into the combined gradient, and when
///    other processes take part one worker all-reduces it with theirs;
/// 3. **apply**: each worker updates its slice (``GradientUpdate``) with the
///    mean gradient `Σ g / Σ ρ`; a barrier publishes the new model.
///
/// The sums always run in the same order, so a run is bitwise reproducible
/// for a given thread count and seed.
struct SynchronousTraining<O: OutputObjective>: Sendable {
  let step: RowStep<O>
  let data: TrainingSet
  /// The model (one replica).
  let model: ModelReplicas
  /// Each worker's assignment: its rows and the block it reads them from.
  let assignments: [WorkerAssignment]
  /// Per worker: its partial gradient (``ModelReplicas/parameterCount`` floats).
  let gradients: [NodeLocalBuffer]
  /// The combined gradient, then its weight: `parameterCount + 1` floats.
  let combined: NodeLocalBuffer
  /// Per worker: the weight of the rows in its share of the current batch.
  let batchWeights: NodeLocalBuffer
  let reducer: any Reducer
  let configuration: TrainingConfiguration
  let counters: CounterSlots
  /// Where each worker leaves the loss of the rows it stepped on.
  let tallies: EpochTallies

  /// The most rows any worker of any process holds: every worker of every
  /// process takes the same number of steps.
  let longest: Int

  /// Each worker's rows in a mini-batch: the batch shared out over every
  /// worker of every process.
  func share(workers: Int) -> Int {
    max(1, (configuration.optimizer.batchSize + workers * reducer.processes - 1) / (workers * reducer.processes))
  }

  /// How many steps an epoch has (the same for every worker).
  func stepsPerEpoch(workers: Int) -> Int {
    guard configuration.optimizer.algorithm == .minibatch else { return 1 }
    let share = share(workers: workers)
    return (longest + share - 1) / share
  }

  /// One epoch on worker `context.index`; `stepsBefore` counts the updates
  /// made before it (for the step-size schedule).
  func epoch(_ context: WorkerContext, epoch: Int, stepsBefore: Int) throws {
    let worker = context.index
    let workers = context.count
    let assignment = assignments[worker]
    let rows =
      configuration.optimizer.algorithm == .minibatch
      ? RowOrder.shuffled(
        assignment.rows, blockRows: data.blockRows, seed: configuration.execution.seed, epoch: epoch,
        stream: reducer.rank * workers + worker)
      : assignment.rows
    let steps = stepsPerEpoch(workers: workers)
    let share =
      configuration.optimizer.algorithm == .minibatch
      ? share(workers: workers) : max(rows.count, 1)
    let total = combined.floats
    let count = model.parameterCount
    let slice = coordinateSlice(worker, of: workers, total: count)
    let schedule = configuration.stepSizes
    let update = GradientUpdate(weightCount: model.weightCount, configuration: configuration)
    let parameters = model.parameters(0).baseAddress!
    let sums = model.view(0).sums.baseAddress
    var counter = counters.slot(worker)
    var tally = LossTally()
    defer { tallies.record(tally, worker: worker) }
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: step.outputs)
    defer { scratch.deallocate() }

    for index in 0..<steps {
      let lower = min(index * share, rows.count)
      let weight = try reduceGradient(
        context, rows: rows[lower..<min(lower + share, rows.count)], scratch: scratch, counter: &counter,
        tally: &tally)
      // apply: each coordinate of my slice along the mean gradient G_j / ρ.
      if weight > 0 {
        let eta = schedule.rate(at: stepsBefore + index)
        for j in slice {
          update.apply(
            PrivateModel.self, j, mean: total[j] / weight, eta: eta, parameters: parameters, sums: sums)
        }
      }
      counter.charge(.merge)
      try context.barrier.arrive()
      counter.charge(.wait)
    }
  }

  /// Every worker's rows at once, for methods that take whole gradients
  /// (L-BFGS): compute and reduce only, the model left as it is. Leaves
  /// `Σ ρ ∇ℓ` in `combined` (and `Σ ρ` after it) and the loss at the
  /// model in the worker's tally.
  func fullGradient(_ context: WorkerContext) throws {
    var counter = counters.slot(context.index)
    var tally = LossTally()
    defer { tallies.record(tally, worker: context.index) }
    let rows = assignments[context.index].rows
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: step.outputs)
    defer { scratch.deallocate() }
    let weight = try reduceGradient(context, rows: rows[...], scratch: scratch, counter: &counter, tally: &tally)
    if context.index == 0 { combined.floats[model.parameterCount] = weight }
  }

  /// Phases 1 and 2 of a step over worker `context.index`'s `rows`: each
  /// worker sums its rows' weighted gradient, then after a barrier sums its
  /// slice of coordinates over all workers (and processes) into `combined`.
  /// Returns Σ ρ over every worker; every worker calls it with its rows.
  /// `scratch` holds a row's margins (``RowStep/outputs`` floats).
  private func reduceGradient(
    _ context: WorkerContext, rows: ArraySlice<Int32>, scratch: UnsafeMutablePointer<Float>,
    counter: inout CounterSlot, tally: inout LossTally
  ) throws -> Float {
    let worker = context.index
    let workers = context.count
    let gradient = gradients[worker].floats
    let total = combined.floats
    let count = model.parameterCount
    let slice = coordinateSlice(worker, of: workers, total: count)
    let view = model.view(0)
    let block = assignments[worker].block

    // compute: g_w = Σ_{i in my share} ρᵢ x_i ⊗ ∂ℓ/∂m,  ρ_w = Σ ρᵢ
    Dense.scale(0, gradient)
    var weightSum: Float = 0
    var nonZeros = block.layout == .dense ? rows.count * block.columns : 0
    for position in rows.indices {
      let row = Int(rows[position])
      if block.layout == .csr { nonZeros &+= Int(block.offsets[row + 1] &- block.offsets[row]) }
      weightSum += step.accumulate(
        PrivateModel.self, row, of: block, model: view, into: gradient, scratch: scratch, tally: &tally)
    }
    batchWeights.floats[worker] = weightSum
    counter.count(examples: rows.count, nonZeros: nonZeros)
    counter.charge(.compute)
    try context.barrier.arrive()
    counter.charge(.wait)

    // reduce: G_j = Σ_w g_w[j] and ρ = Σ_w ρ_w, in worker order.
    var weight: Float = 0
    for k in 0..<workers { weight += batchWeights.floats[k] }
    for j in slice {
      var sum: Float = 0
      for k in 0..<workers { sum += gradients[k].floats[j] }
      total[j] = sum
    }
    if reducer.processes > 1 {
      if worker == 0 { total[count] = weight }
      try context.barrier.arrive()
      if worker == 0 { try reducer.allReduceSum(total) }
      try context.barrier.arrive()
      weight = total[count]
    }
    return weight
  }
}
