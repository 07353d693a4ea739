import Dataset
import Kernels
import Learning
import Parallel
import Topology

/// Trains linear models on the cores of this machine.
///
///     let trainer = Trainer(configuration)
///     let result = try trainer.fit(try dataset.checkedRows()) { print($0.epoch, $0.trainingLoss) }
///     result.model.predict(dense: row)
///
/// The three parts of distributed learning happen here: the training rows are
/// partitioned into contiguous ranges (balanced by non-zeros), each worker
/// (one pinned thread per core) trains on its partitions, and the strategy
/// decides how the workers' updates are combined.
public struct Trainer: Sendable {
  /// How to train.
  public var configuration: TrainingConfiguration
  /// The machine to run on (`nil`: this machine, read when training starts).
  public var topology: Topology?
  /// How this process's totals combine with other processes' (``InProcess``:
  /// there are none).
  public var reducer: any Reducer = InProcess()
  /// Across processes: whether each process's rows are its own (`--shard`),
  /// so that it trains on all of them and everything measured over the rows
  /// (classes, scaling, the rate, validation) is summed over the processes;
  /// otherwise every process maps the same rows and trains on its
  /// contiguous share.
  public var rowsPerProcess = false
  /// Ends the fit early when requested, from any thread (``StopRequest``).
  public var stopRequest: StopRequest?

  /// A trainer with `configuration`.
  public init(_ configuration: TrainingConfiguration, topology: Topology? = nil) {
    self.configuration = configuration
    self.topology = topology
  }

  /// Trains on `rows` (labels ±1 or 0/1 for classification losses, reals for
  /// squared loss) and calls `progress` after every epoch, on the calling
  /// thread. Each epoch is validated on `validation` when given, otherwise on
  /// the configuration's holdout share of `rows`.
  ///
  /// With `checkpointEvery` set, `checkpoint` is called after every that many
  /// epochs with the run's state; passing such a state back as `resuming`
  /// carries on from it (a resumed `sync` run is bitwise the same as one that
  /// never stopped).
  ///
  /// Pass `counters` to watch the workers while an epoch runs (from another
  /// thread); the result's `workers` holds their totals either way.
  ///
  /// `startingFrom` warm-starts the fit from a model (for raw features, as
  /// every ``LinearModel`` is) of the same shape: the rows' features, the
  /// loss, and the classes (pin them with the configuration's `classes` when
  /// the rows may lack some). Only the weights carry over: the schedule's step
  /// count and AdaGrad's sums start afresh.
  public func fit(
    _ rows: CheckedRows, validation: CheckedRows? = nil, resuming: Checkpoint? = nil,
    startingFrom initial: LinearModel? = nil, checkpointEvery: Int? = nil,
    counters: WorkerCounters = WorkerCounters(), checkpoint: (Checkpoint) throws -> Void = { _ in },
    progress: (EpochReport) -> Void = { _ in }
  ) throws -> TrainingResult {
    let machine = try topology ?? Topology.current()
    try configuration.validate(on: machine)
    if configuration.optimizer.warmStartEpochs > 0, initial == nil, resuming == nil {
      let warm = try warmStart(rows, validation: validation, counters: counters)
      var rest = self
      rest.configuration.optimizer.warmStartEpochs = 0
      var result = try rest.fit(
        rows, validation: validation, startingFrom: warm.model, checkpointEvery: checkpointEvery,
        counters: counters, checkpoint: checkpoint, progress: progress)
      result.warmStart = warm.history.last
      return result
    }
    if let checkpointEvery, checkpointEvery < 1 {
      throw TrainingError.invalidConfiguration(
        "checkpoint-every must be at least 1 epoch (got \(checkpointEvery))")
    }
    let processes: ProcessRows =
      reducer.processes == 1
      ? .all : rowsPerProcess ? .own(reducer) : .share(rank: reducer.rank, count: reducer.processes)
    // The algorithm, and the stopping rule that may hold rows out, are
    // chosen before the rows are prepared.
    let totals = try TrainingSet.summed(
      [Double(rows.block.nonZeros), Double(rows.block.count)], over: processes.everywhere)
    let algorithm =
      configuration.optimizer.algorithm == .auto
      ? Self.automaticAlgorithm(values: Int(totals[0]), configuration: configuration)
      : (kind: configuration.optimizer.algorithm, reason: "as requested")
    let early = Self.automaticStopping(
      algorithm: algorithm.kind, rowsEverywhere: Int(totals[1]), configuration: configuration,
      test: validation != nil)
    var prepared = configuration
    if let holdout = early?.holdout { prepared.stopping.holdoutFraction = holdout }
    let data = try TrainingSet(rows: rows, test: validation, configuration: prepared, processes: processes)
    // A pass over the labels: only for runs that write or read checkpoints.
    let fingerprint =
      resuming != nil || checkpointEvery != nil
      ? try TrainingData.fingerprint(of: rows, everywhere: processes.everywhere) : ""
    try resuming?.check(
      resuming: configuration, columns: rows.block.columns, outputs: data.outputs, fingerprint: fingerprint)
    if let initial {
      guard resuming == nil else {
        throw TrainingError.invalidConfiguration(
          "a fit resumes from a checkpoint or starts from a model, not both")
      }
      guard initial.features == rows.block.columns, initial.outputs == data.outputs,
        initial.loss == data.loss,
        initial.classes == nil || initial.classes == data.classes
      else {
        throw TrainingError.invalidConfiguration(
          "the starting model (\(initial.loss.rawValue) loss, \(initial.features) features, \(initial.outputs) outputs"
            + (initial.classes.map { ", classes " + $0.map(LinearModel.labelText).joined(separator: " ") }
              ?? "")
            + ") does not fit this fit (\(data.loss.rawValue) loss, \(rows.block.columns) features, \(data.outputs) outputs"
            + (data.classes.map { ", classes " + $0.map(LinearModel.labelText).joined(separator: " ") } ?? "")
            + ")")
      }
    }
    return try train(
      data, rows: rows, machine: machine, algorithm: algorithm, early: early, fingerprint: fingerprint,
      resuming: resuming, initial: initial, checkpointEvery: checkpointEvery, counters: counters,
      checkpoint: checkpoint, progress: progress)
  }

  /// Trains on rows already prepared (`data`, made from `rows`) with
  /// `algorithm` (the configuration's when not `auto`) and `early`'s
  /// stopping rule: the settings left open are chosen, the workers
  /// placed, and the epochs run.
  func train(
    _ data: TrainingSet, rows: CheckedRows, machine: Topology,
    algorithm: (kind: Algorithm, reason: String)? = nil, early: EarlyStopping? = nil,
    fingerprint: String = "", resuming: Checkpoint? = nil, initial: LinearModel? = nil,
    checkpointEvery: Int? = nil, counters: WorkerCounters = WorkerCounters(),
    checkpoint: (Checkpoint) throws -> Void = { _ in }, progress: (EpochReport) -> Void = { _ in }
  ) throws -> TrainingResult {
    // From here on the run's configuration has its algorithm, epochs, L2
    // strength and learning rate (checkpoints keep what was asked for).
    let requested = configuration
    var configuration = requested
    let algorithm = algorithm ?? (kind: requested.optimizer.algorithm, reason: "as requested")
    precondition(algorithm.kind != .auto, "the algorithm is chosen before training")
    configuration.optimizer.algorithm = algorithm.kind
    configuration.stopping.epochs = requested.stopping.epochs ?? Self.automaticEpochs(for: algorithm.kind)
    let stopping: String
    if let early {
      configuration.stopping.holdoutFraction = early.holdout ?? requested.stopping.holdoutFraction
      configuration.stopping.tolerance = EarlyStopping.relativeTolerance
      stopping = early.reason
    } else if let tolerance = requested.stopping.tolerance {
      stopping =
        "at most \(configuration.stopping.epochs!) epochs, until the loss makes \(requested.stopping.iterationsWithoutChange) epochs without a fall of \(printed(tolerance, "%g")), as requested"
    } else {
      stopping =
        "\(configuration.stopping.epochs!) epochs\(algorithm.kind == .lbfgs ? " at most (L-BFGS ends at the optimum)" : "")\(requested.stopping.epochs == nil ? "" : ", as requested")"
    }
    let l2 =
      try requested.problem.l2.map { (value: $0, reason: "as requested") }
      ?? automaticL2(
        rows, data: data, configuration: configuration, machine: machine, startsFromModel: initial != nil)
    configuration.problem.l2 = l2.value
    try configuration.validate()
    let schedule =
      requested.optimizer.schedule.map { (kind: $0, reason: "as requested") }
      ?? Self.automaticSchedule(for: data, configuration: configuration)
    configuration.optimizer.schedule = schedule.kind
    let rate =
      try requested.optimizer.learningRate.map { (value: $0, reason: "as requested") }
      ?? automaticRate(
        rows, data: data, configuration: configuration, machine: machine, startsFromModel: initial != nil)
    configuration.optimizer.learningRate = rate.value
    var plan = try PlacementPlan(
      topology: machine, workers: configuration.execution.threads, policy: configuration.execution.placement)
    // One worker a core, but no more workers than rows unless asked for.
    if configuration.execution.threads == nil, configuration.execution.partitions == nil,
      plan.workers.count > data.training.count, data.training.count > 0
    {
      plan = try PlacementPlan(
        topology: machine, workers: data.training.count, policy: configuration.execution.placement)
    }
    let workers = plan.workers.count
    if reducer.processes > 1 {
      // Steps, batches and meetings assume as many workers in every process.
      let most = try reducer.allReduceMax(workers)
      let fewest = -(try reducer.allReduceMax(-workers))
      guard most == fewest else {
        throw TrainingError.invalidConfiguration(
          "the processes would train with \(fewest) to \(most) workers each (a process takes at most one a core and one a training row); give --threads N so that every process has as many"
        )
      }
    }
    let partitionCount = configuration.execution.partitions ?? workers
    guard partitionCount <= data.training.count else {
      throw TrainingError.invalidConfiguration(
        "\(partitionCount) partitions is more than the \(data.training.count) training rows; use at most \(data.training.count)"
      )
    }
    let layout: DataLayout
    do {
      layout = try DataLayout(
        rows: data.training, of: data.rows, plan: plan, on: machine, partitions: partitionCount,
        placement: configuration.execution.dataPlacement,
        replication: configuration.execution.dataReplication,
        simulating: configuration.execution.simulatedNodes)
    } catch { throw TrainingError.placementFailed(error.description) }
    let density =
      Double(data.nonZerosEverywhere) / Double(max(data.rowCountEverywhere * data.rows.columns, 1))
    let choice = StrategyChoice.choose(
      requested: configuration.execution.strategy, algorithm: configuration.optimizer.algorithm,
      layout: data.rows.layout,
      columns: data.rows.columns, outputs: data.outputs, density: density,
      adaptive: configuration.adaptiveStep != nil, workers: workers,
      nodes: Set(layout.assignments.map(\.node)).count,
      privateCacheBytes: machine.privateCacheBytes)
    return try withoutActuallyEscaping(progress) { progress in
      try withoutActuallyEscaping(checkpoint) { checkpoint in
        let run = TrainingRun(
          configuration: configuration, requested: requested, rate: rate, schedule: schedule, data: data,
          fingerprint: fingerprint, machine: machine, plan: plan,
          layout: layout,
          choice: choice, algorithm: algorithm, l2: l2, stopping: stopping, early: early,
          reducer: reducer, resuming: resuming,
          initial: initial,
          checkpointEvery: checkpointEvery, stopRequest: stopRequest,
          counters: counters, checkpoint: checkpoint, progress: progress)
        return try data.loss.visit(outputs: data.outputs, run)
      }
    }
  }
}

extension Trainer {
  /// The warm start of L-BFGS: `warmStartEpochs` epochs of SGD on per-core
  /// replicas, averaged at every meeting, from zeros, with the schedule and
  /// rate chosen from the data; no stopping rule but the epoch count.
  func warmStart(_ rows: CheckedRows, validation: CheckedRows?, counters: WorkerCounters) throws
    -> TrainingResult
  {
    var sgd = self
    sgd.configuration.optimizer.algorithm = .sgd
    sgd.configuration.optimizer.warmStartEpochs = 0
    sgd.configuration.execution.strategy = .perCore
    sgd.configuration.stopping.epochs = configuration.optimizer.warmStartEpochs
    sgd.configuration.stopping.tolerance = nil
    sgd.configuration.stopping.targetLoss = nil
    let result = try sgd.fit(rows, validation: validation, counters: counters)
    if case .diverged(let epoch, let rate) = result.stopReason {
      throw TrainingError.diverged(epoch: epoch, learningRate: rate)
    }
    return result
  }

  /// Stored values up to which data is small: a pass over it takes well
  /// under a millisecond, so L-BFGS runs to the optimum and cross-validation
  /// chooses the L2 strength, in about a second at most.
  static let smallData = 1 << 20

  /// The algorithm when the configuration leaves it to `auto`, and why:
  /// L-BFGS to the optimum on small data (``smallData``), where its
  /// passes are cheap and the exact optimum of a cross-validated objective
  /// beats a few epochs of SGD (the defaults panel: digits 0.9667 against
  /// 0.9578 test accuracy, diabetes R² 0.370 against 0.331), unless the loss
  /// has a kink (hinge) or a step size was asked for; SGD otherwise, or
  /// mini-batches under strategy `sync`.
  static func automaticAlgorithm(values: Int, configuration: TrainingConfiguration) -> (
    kind: Algorithm, reason: String
  ) {
    let hinge = configuration.problem.loss == .hinge
    let small = values <= smallData
    let barriers = configuration.execution.strategy == .sync
    let stepAsked = configuration.optimizer.schedule != nil || configuration.optimizer.learningRate != nil
    if small, !hinge, !stepAsked,
      configuration.execution.strategy == .auto || barriers
    {
      return (.lbfgs, "small data (\(values) stored values): L-BFGS to the optimum")
    }
    let why =
      !small
      ? "\(values) stored values: stochastic steps, a few passes"
      : hinge
        ? "hinge loss has a kink that L-BFGS cannot take"
        : stepAsked
          ? "a learning rate or schedule was given" : "strategy \(configuration.execution.strategy.rawValue)"
    return barriers ? (.minibatch, why + "; mini-batches under strategy sync") : (.sgd, why)
  }

  /// The epoch cap when the configuration leaves it open: 100 for the
  /// full-batch methods (L-BFGS stops sooner at the optimum), 20 passes
  /// for the stochastic ones, which early stopping (``EarlyStopping``)
  /// usually ends sooner.
  static func automaticEpochs(for algorithm: Algorithm) -> Int {
    algorithm == .lbfgs || algorithm == .gd ? 100 : 20
  }

  /// The step-size schedule when the configuration leaves it open, and why:
  /// constant for full-batch `gd` (its step is at most 1/L, see
  /// ``boundedRate(for:configuration:)``); AdaGrad for sparse rows, where
  /// rare features need the large steps a global rate cannot give them
  /// (0.917 against 0.876 validation accuracy on a generated sparse set; test
  /// log-loss 0.149 against 0.615 on the RCV1-like benchmark set); inverse
  /// scaling `η₀/(t+1)^p` otherwise.
  static func automaticSchedule(
    for data: TrainingSet, configuration: TrainingConfiguration
  ) -> (kind: ScheduleKind, reason: String) {
    if configuration.optimizer.algorithm == .gd {
      return (.constant, "full-batch gradient descent with a step of at most 1/L")
    }
    if configuration.optimizer.algorithm == .lbfgs {
      return (.constant, "L-BFGS: each step's length comes from its line search")
    }
    if data.rows.layout == .csr {
      return (.adagrad, "sparse rows: rare features keep large steps of their own")
    }
    return (
      .inverseScaling, "dense rows: one global step, shrinking as (t+1)^-\(configuration.optimizer.power)"
    )
  }

  /// The learning rate of the global schedules when the configuration
  /// leaves it to the data, and why (AdaGrad's comes from a trial, see
  /// ``automaticRate(_:data:configuration:machine:)``). They take
  ///
  ///     η₀ = 1 / (c · mean ‖x‖²)
  ///
  /// over up to 8,192 evenly spaced training rows as they are trained on
  /// (standardised, and with the intercept's 1 when there is one), where `c`
  /// bounds the loss's curvature: ¼ logistic, ½ softmax, 1 squared and
  /// hinge, 2 modified Huber. A step of that size on one row changes its
  /// margin by at most `1/c` times its derivative, so no single step
  /// overshoots, and it is at most `1/L` for full-batch gradient descent
  /// (`L ≤ c · mean ‖x‖²`), so `gd` converges. On the defaults panel: 0.129 on
  /// breast-cancer, 4 on unit-norm sparse rows (0.632 → 0.90 validation
  /// accuracy against the old fixed 0.01).
  static func boundedRate(
    for data: TrainingSet, configuration: TrainingConfiguration
  ) throws(TrainingError) -> (value: Float, reason: String) {
    if configuration.optimizer.algorithm == .lbfgs {
      return (1, "L-BFGS takes the quasi-Newton step its line search accepts (a rate is not used)")
    }
    let rows = data.rows
    let sample = min(rows.count, 8_192)
    var total = 0.0
    for k in 0..<sample {
      let row = k * rows.count / sample
      switch rows.layout {
      case .dense: total += Double(Dense.dot(rows.denseRow(row), rows.denseRow(row)))
      case .csr: total += rows.sparseRow(row).values.reduce(0.0) { $0 + Double($1) * Double($1) }
      }
    }
    let sums = try TrainingSet.summed([total, Double(sample)], over: data.everywhere)
    let meanSquare = sums[0] / max(sums[1], 1) + (configuration.problem.fitIntercept ? 1 : 0)
    let (curvature, name) = data.loss.curvatureBound
    let rate = Float(1 / (curvature * max(meanSquare, 1e-12)))
    return (
      rate,
      "1 / (\(name) × \(printed(meanSquare, "%.3g")), the mean squared row norm\(configuration.problem.fitIntercept ? " with the intercept" : ""), over \(Int(sums[1])) rows)"
    )
  }
}

/// One training run, entered with a concrete objective so that every loop
/// below is specialised for it.
private struct TrainingRun: OutputObjectiveVisitor {
  /// The configuration, with its learning rate chosen.
  let configuration: TrainingConfiguration
  /// The configuration as asked for, which checkpoints keep.
  let requested: TrainingConfiguration
  /// The learning rate, and why.
  let rate: (value: Float, reason: String)
  /// The step-size schedule, and why.
  let schedule: (kind: ScheduleKind, reason: String)
  let data: TrainingSet
  /// What the training data was, for checkpoints.
  let fingerprint: String
  let machine: Topology
  let plan: PlacementPlan
  /// What each worker trains on, and where.
  let layout: DataLayout
  var assignments: [WorkerAssignment] { layout.assignments }
  let choice: StrategyChoice
  /// The algorithm and the L2 strength, and why.
  let algorithm: (kind: Algorithm, reason: String)
  let l2: (value: Float, reason: String)
  /// The stopping rule in words, and early stopping's when it chose it.
  let stopping: String
  let early: EarlyStopping?
  let reducer: any Reducer
  let resuming: Checkpoint?
  let initial: LinearModel?
  let checkpointEvery: Int?
  let stopRequest: StopRequest?
  let counters: WorkerCounters
  let checkpoint: (Checkpoint) throws -> Void
  let progress: (EpochReport) -> Void

  func visit<O: OutputObjective>(_ objective: O) throws -> TrainingResult {
    let workers = plan.workers.count
    let team = try WorkerTeam(topology: machine, plan: plan)
    let columns = data.rows.columns
    let slots = counters.prepare(
      workers: workers, bytesPerNonZero: data.rows.layout == .dense ? 4 : 8)
    let step = RowStep(
      objective: objective, fitIntercept: configuration.problem.fitIntercept, weightScale: data.weightScale,
      tracksLoss: !configuration.stopping.exactLoss || configuration.optimizer.algorithm == .lbfgs)
    let tallies = EpochTallies(workers: workers)
    let scratch = try NodeLocalBuffer(count: workers, node: nil)
    let evaluation = Evaluation(
      step: step, data: data, assignments: assignments, configuration: configuration, reducer: reducer,
      shares: try PenaltyShares(for: data, configuration: configuration))

    // Which replica each worker writes, for the replica strategies.
    let replicaOf: [Int]
    switch choice.strategy {
    case .perCore: replicaOf = Array(0..<workers)
    case .perNode:
      let nodes = Array(Set(assignments.map(\.node))).sorted()
      replicaOf = assignments.map { nodes.firstIndex(of: $0.node)! }
    case .hogwild, .sync, .auto: replicaOf = Array(repeating: 0, count: workers)
    }
    let replicaCount = replicaOf.max()! + 1
    let replicaNodes = (0..<replicaCount).map { r in assignments[replicaOf.firstIndex(of: r)!].memoryNode }
    // Replicas of sparse rows merge by adding up their changes (see ReplicaMerge),
    // from the state of the last merge: kept with several replicas here or elsewhere.
    let addsChanges = configuration.adaptiveStep != nil || data.rows.layout == .csr
    let model = try ModelReplicas(
      count: replicaCount, columns: columns, outputs: data.outputs, nodes: replicaNodes,
      adaptive: configuration.adaptiveStep != nil,
      keepsMerged: addsChanges && choice.strategy != .sync && replicaCount * reducer.processes > 1)
    let gradients = try assignments.map {
      try NodeLocalBuffer(count: model.parameterCount, node: $0.memoryNode)
    }

    let epochBody: LinearTraining<O>.Body
    /// Model updates per epoch, the step-size schedule's unit.
    let updatesPerEpoch: Int
    let longest = assignments.map(\.rows.count).max()!
    let globalLongest = try reducer.allReduceMax(longest)
    if configuration.optimizer.algorithm == .lbfgs {
      let lbfgs = LBFGSTraining(
        pass: SynchronousTraining(
          step: step, data: data, model: model, assignments: assignments, gradients: gradients,
          combined: try NodeLocalBuffer(count: model.parameterCount + 1, node: nil), batchWeights: scratch,
          reducer: reducer, configuration: configuration, counters: slots, tallies: tallies,
          longest: globalLongest),
        configuration: configuration,
        preconditioner: try data.curvatureDiagonal(
          outputs: model.outputs, l2: Double(configuration.problem.l2Strength)))
      updatesPerEpoch = 1
      epochBody = .driven(run: { _, team in try lbfgs.iterate(on: team) }, finished: { lbfgs.finished })
    } else if choice.strategy == .sync {
      let training = SynchronousTraining(
        step: step, data: data, model: model, assignments: assignments, gradients: gradients,
        combined: try NodeLocalBuffer(count: model.parameterCount + 1, node: nil), batchWeights: scratch,
        reducer: reducer, configuration: configuration, counters: slots, tallies: tallies,
        longest: globalLongest)
      let steps = training.stepsPerEpoch(workers: workers)
      updatesPerEpoch = steps
      epochBody = .perWorker { try training.epoch($0, epoch: $1, stepsBefore: ($1 - 1) * steps) }
    } else {
      var writers = [Int](repeating: 0, count: replicaCount)
      for r in replicaOf { writers[r] += 1 }
      let training = ReplicaTraining(
        step: step, data: data, replicas: model, replicaOf: replicaOf, writers: writers,
        assignments: assignments,
        gradients: gradients, roundCounts: scratch, configuration: configuration, counters: slots,
        tallies: tallies, reducer: reducer,
        mergeTotals: try NodeLocalBuffer(count: 4 * model.parameterCount, node: nil), longest: globalLongest)
      updatesPerEpoch = globalLongest * workers * reducer.processes / training.rowsPerUpdate
      epochBody = .perWorker { try training.epoch($0, epoch: $1, examplesBefore: ($1 - 1) * globalLongest) }
    }

    // What one epoch reads: every worker's rows (under full replication,
    // every row once per node).
    let bytesPerEpoch = Double(
      assignments.reduce(0) { total, assignment in
        assignment.rows.reduce(total) { total, row in
          total
            + (data.rows.layout == .dense
              ? columns * 4 : Int(data.rows.offsets[Int(row) + 1] - data.rows.offsets[Int(row)]) * 8)
        }
      })
    let epochs = LinearTraining(
      body: epochBody, model: model, evaluation: evaluation, tallies: tallies, requested: requested,
      data: data,
      fingerprint: fingerprint,
      configuration: configuration,
      examplesPerEpoch: assignments.reduce(0) { $0 + $1.rows.count }, bytesPerEpoch: bytesPerEpoch,
      updatesPerEpoch: updatesPerEpoch)
    var start = DriverState()
    if let initial {
      // The model is for raw features; training sees them scaled, when they are.
      let (weights, intercepts) =
        data.scaler?.scale(weights: initial.weights, intercepts: initial.intercepts)
        ?? (initial.weights, initial.intercepts)
      model.load(weights: weights, intercepts: intercepts)
    }
    if let resuming {
      model.load(weights: resuming.weights, intercepts: resuming.intercepts)
      if let sums = resuming.squaredSums { model.load(squaredSums: sums) }
      start = DriverState(
        epoch: resuming.epoch, history: resuming.history, best: resuming.bestLoss ?? .infinity,
        epochsWithoutImprovement: resuming.epochsWithoutImprovement,
        kept: resuming.kept.map { ($0.epoch, $0.loss) })
    }
    let driver = EpochDriver(
      team: team, counters: counters,
      epochs: configuration.stopping.epochs
        ?? Trainer.automaticEpochs(for: configuration.optimizer.algorithm),
      tolerance: configuration.stopping.tolerance, relativeTolerance: early != nil,
      watchesTraining: early?.watchesTraining ?? false, keepsBest: early.map { !$0.watchesTraining } ?? false,
      iterationsWithoutChange: configuration.stopping.iterationsWithoutChange,
      targetLoss: configuration.stopping.targetLoss,
      checkpointEvery: checkpointEvery, stopRequest: stopRequest)
    let keptAtStart = resuming?.kept.map { (weights: $0.weights, intercepts: $0.intercepts) }
    let outcome = try driver.run(
      epochs, from: start, kept: keptAtStart, checkpoint: checkpoint, progress: progress)
    let kept = outcome.kept
    let (weights, intercepts) =
      data.scaler?.unscale(weights: kept.weights, intercepts: kept.intercepts) ?? kept
    return TrainingResult(
      model: LinearModel(
        loss: data.loss, weights: weights, intercepts: intercepts, classes: data.classes, scaler: data.scaler),
      history: outcome.history, strategy: choice, placement: plan.workers.map(\.cpu),
      stopReason: outcome.stopReason,
      trainingRows: data.training.count, validationRows: data.validation.count,
      workers: layout.workerStats(plan: plan, counters: counters, replicaOf: replicaOf),
      scaling: data.scaling, learningRate: rate,
      schedule: schedule, algorithm: algorithm, l2: l2, stopping: stopping,
      holdoutFraction: data.validatesOnTest || data.validation.isEmpty
        ? nil : configuration.stopping.holdoutFraction,
      modelEpoch: outcome.keptEpoch)
  }
}

/// Linear models as an ``EpochAlgorithm``: an epoch of the replica
/// strategies, of `sync` or of L-BFGS, the replicas' state, and the losses
/// of ``Evaluation``.
private struct LinearTraining<O: OutputObjective>: EpochAlgorithm {
  typealias Snapshot = (weights: [Float], intercepts: [Float])
  /// What an epoch runs.
  enum Body: Sendable {
    /// Every worker at once: the worker's context and the epoch.
    case perWorker(@Sendable (WorkerContext, Int) throws -> Void)
    /// A method that drives the team itself (L-BFGS), and whether it has
    /// finished.
    case driven(run: @Sendable (Int, WorkerTeam) throws -> Void, finished: @Sendable () -> Bool)
  }
  let body: Body
  let model: ModelReplicas
  let evaluation: Evaluation<O>
  /// The progressive training loss, when the configuration asks for it.
  let tallies: EpochTallies
  /// The configuration as asked for, which checkpoints keep.
  let requested: TrainingConfiguration
  let data: TrainingSet
  let fingerprint: String
  let configuration: TrainingConfiguration
  let examplesPerEpoch: Int
  let bytesPerEpoch: Double
  /// Model updates per epoch, the step-size schedule's unit.
  let updatesPerEpoch: Int

  func epoch(_ context: WorkerContext, epoch: Int) throws {
    guard case .perWorker(let body) = body else {
      preconditionFailure("a driven method runs the team itself")
    }
    try body(context, epoch)
  }

  func run(epoch: Int, on team: WorkerTeam) throws {
    switch body {
    case .perWorker(let body): try team.run { context in try body(context, epoch) }
    case .driven(let run, _): try run(epoch, team)
    }
  }

  var finished: Bool {
    guard case .driven(_, let finished) = body else { return false }
    return finished()
  }

  func snapshot() -> Snapshot { model.snapshot() }

  func losses(of snapshot: Snapshot, team: WorkerTeam) throws -> (losses: EpochLosses, finite: Bool) {
    let raw = data.scaler?.unscale(weights: snapshot.weights, intercepts: snapshot.intercepts) ?? snapshot
    // The rows' losses as their steps met them, or a separate pass for the exact one.
    let progressive = configuration.stopping.exactLoss ? nil : tallies.takeTotal()
    let losses = try evaluation.losses(team: team, model: snapshot, raw: raw, progressive: progressive)
    return (losses, snapshot.weights.allSatisfy(\.isFinite) && snapshot.intercepts.allSatisfy(\.isFinite))
  }

  func divergence(in epoch: Int) -> StopReason {
    .diverged(epoch: epoch, learningRate: configuration.stepSizes.rate(at: (epoch - 1) * updatesPerEpoch))
  }

  func checkpoint(_ snapshot: Snapshot, kept: Snapshot?, state: DriverState) -> Checkpoint {
    var keptModel: KeptModel? = nil
    if let kept, let at = state.kept {
      keptModel = KeptModel(
        epoch: at.epoch, loss: at.loss, weights: kept.weights, intercepts: kept.intercepts)
    }
    return Checkpoint(
      epoch: state.epoch, weights: snapshot.weights, intercepts: snapshot.intercepts, history: state.history,
      bestLoss: state.best.isFinite ? state.best : nil,
      epochsWithoutImprovement: state.epochsWithoutImprovement,
      configuration: requested, squaredSums: model.squaredSumsSnapshot(), data: fingerprint,
      kept: keptModel)
  }
}
