import Dataset
import Kernels
import Learning
import Parallel
import SeededRandom
import Topology

/// Clusters rows with k-means on the cores of this machine.
///
///     var configuration = KMeansConfiguration(clusters: 8)
///     configuration.runs = 3
///     let result = try KMeans(configuration).fit(try dataset.checkedRows())
///     print(result.inertia, result.model.centre(0))
///
/// The rows are partitioned and dealt to pinned workers as for training;
/// each iteration is one ``LloydPass`` (assign, then reduce in worker
/// order), and the calling thread moves the centres between passes. A fit
/// is bitwise reproducible for a given seed and thread count.
///
/// Across processes (a ``reducer`` of several, such as MPI ranks) every
/// process maps the same rows and assigns its contiguous share of them,
/// balanced by non-zeros. Each iteration the centres' sums and weights and
/// the tallies are summed over the processes in process order, so every
/// process moves the centres alike, and the empty clusters take the rows
/// farthest from their centres among all processes' rows. Process 0 chooses
/// the starting centres over all rows (on its own workers) and every process
/// starts from them. Mini-batch k-means runs in one process only.
public struct KMeans: Sendable {
  /// How to cluster.
  public var configuration: KMeansConfiguration
  /// The machine to run on (`nil`: this machine, read when the fit starts).
  public var topology: Topology?
  /// Ends the fit early when requested, from any thread (``StopRequest``):
  /// after the iteration in which it is asked, keeping the best run so far.
  public var stopRequest: StopRequest?
  /// The processes this fit spans (``InProcess``: this one alone).
  public var reducer: any Reducer = InProcess()
  /// Across processes: whether each process's rows are its own (`--shard`),
  /// so that it assigns all of them, the scaling and the tolerance come from
  /// every process's rows, and process 0 seeds over its own rows; otherwise
  /// every process maps the same rows and assigns its contiguous share.
  public var rowsPerProcess = false

  /// A k-means fitter with `configuration`.
  public init(_ configuration: KMeansConfiguration, topology: Topology? = nil) {
    self.configuration = configuration
    self.topology = topology
  }

  /// Clusters `rows` (labels are ignored; weights count), calling
  /// `progress` after every iteration on the calling thread. Pass `counters`
  /// to watch the workers from another thread. `initialCentres` (k ×
  /// features values, centre-major, in the space clustered in) replaces the
  /// configuration's initialisation: every run starts from them.
  public func fit(
    _ rows: CheckedRows, initialCentres: [Float]? = nil, counters: WorkerCounters = WorkerCounters(),
    progress: (KMeansReport) -> Void = { _ in }
  ) throws -> KMeansResult {
    try configuration.validate()
    let k = configuration.clusters
    if let initialCentres, initialCentres.count != k * rows.columns || !initialCentres.allSatisfy(\.isFinite)
    {
      throw TrainingError.invalidConfiguration(
        "the initial centres must be \(k) × \(rows.columns) finite values (got \(initialCentres.count))")
    }
    guard rows.count > 0 else { throw TrainingError.noTrainingRows }
    guard rows.columns > 0 else {
      throw TrainingError.invalidConfiguration("the data has no features to cluster")
    }
    let processes = reducer.processes
    let everywhere = processes > 1 && rowsPerProcess ? reducer : nil
    let totals = try TrainingSet.summed(
      [Double(rows.count), KMeansSeeding.totalWeight(rows.block)], over: everywhere)
    let rowsEverywhere = Int(totals[0])
    guard k <= rowsEverywhere else {
      throw TrainingError.invalidConfiguration("k = \(k) is more than the \(rowsEverywhere) rows to cluster")
    }
    if processes > 1 {
      guard configuration.algorithm != .minibatch else {
        throw TrainingError.invalidConfiguration(
          "mini-batch k-means runs in one process; across \(processes) processes use the lloyd or bounded algorithm"
        )
      }
      guard rowsPerProcess || rows.count >= processes else {
        throw TrainingError.invalidConfiguration(
          "\(rows.count) rows for \(processes) processes: each needs at least one")
      }
    }
    let machine = try topology ?? Topology.current()
    let scaled =
      configuration.standardize ? try TrainingSet.standardized(rows.block, everywhere: everywhere) : nil
    defer { scaled?.values.deallocate() }
    let plan = try PlacementPlan(
      topology: machine, workers: configuration.execution.threads, policy: configuration.execution.placement)
    let strategy = Self.strategy(for: configuration, workers: plan.workers.count, columns: rows.columns)
    let all = Array(0..<Int32(rows.count))
    let mine =
      processes > 1 && !rowsPerProcess
      ? Array(DataLayout.split(all, of: rows.block, into: processes)[reducer.rank]) : all
    let team = try ClusterTeam(
      rows: rows, assigning: mine, scaled: scaled?.values, clusters: k, execution: configuration.execution,
      plan: plan, machine: machine, bounded: configuration.algorithm == .bounded, counters: counters,
      replicated: strategy.strategy == .perCore || strategy.strategy == .hogwild)
    let block = team.block
    let state = team.state
    let layout = team.layout
    let execution = configuration.execution
    // Process 0 of several seeds over every row, on a team of its own (over its own rows: on its team).
    let seedingTeam: (() throws -> ClusterTeam)? =
      processes > 1 && reducer.rank == 0 && !rowsPerProcess
      ? {
        try ClusterTeam(
          rows: rows, assigning: all, scaled: scaled?.values, clusters: k, execution: execution, plan: plan,
          machine: machine, bounded: false, counters: WorkerCounters())
      } : nil
    let fit = KMeansRun(
      configuration: configuration, topology: machine, block: block, state: state, team: team.team,
      assignments: layout.assignments, rows: mine, rowsEverywhere: rowsEverywhere, counters: counters,
      slots: team.slots,
      stopRequest: stopRequest, reducer: reducer, seedingTeam: seedingTeam,
      sharedSums: strategy.strategy == .hogwild)

    let tolerance = try KMeansRun.absoluteTolerance(configuration, block: block, everywhere: everywhere)
    var best: (run: Int, inertia: Double, centres: [Float], stop: KMeansStop)?
    var history: [KMeansReport] = []
    var inertias: [Double] = []
    var seeding = 0.0
    for run in 1...configuration.runs {
      let started = monotonicSeconds()
      try fit.seed(run: run, from: initialCentres)
      seeding += monotonicSeconds() - started
      let (inertia, stop) = try fit.iterate(run: run, tolerance: tolerance) { report in
        history.append(report)
        progress(report)
      }
      inertias.append(inertia)
      guard inertia.isFinite else {
        throw TrainingError.invalidData(
          "the squared distances overflow 32-bit floats (values reach about 1.8e19 per feature or more); scale the data first, e.g. --standardize"
        )
      }
      if inertia < best?.inertia ?? .infinity {
        best = (
          run, inertia, Array(UnsafeBufferPointer(start: state.centres, count: k * block.columns)), stop
        )
      }
      if stopRequest?.isRequested == true { break }
    }
    let winner = best!
    return KMeansResult(
      model: ClusterModel(centres: winner.centres, features: block.columns, scaler: scaled?.scaler),
      inertia: winner.inertia, runInertias: inertias, bestRun: winner.run, stopReason: winner.stop,
      history: history, strategy: strategy, initializationSeconds: seeding, rows: rowsEverywhere,
      totalWeight: totals[1], assignedRows: mine.count,
      placement: plan.workers.map(\.cpu),
      workers: layout.workerStats(
        plan: plan, counters: counters, replicaOf: Array(repeating: 0, count: plan.workers.count)))
  }

  /// How mini-batch workers combine their centres, and why: as asked
  /// (`sync`, `per-core` or `hogwild`), or for `auto` per-core replicas on
  /// more than one worker: they meet every ``KMeansRun/rowsBetweenMeetings``
  /// rows instead of at a barrier per batch, and stay reproducible, where
  /// shared sums (`hogwild`) write `k × d` Doubles to lines every worker
  /// writes at every step, and measured no faster on 2 cores (BENCHMARKS.md);
  /// `sync` for Lloyd's and the bounded iteration, which always combine at
  /// a barrier.
  static func strategy(for configuration: KMeansConfiguration, workers: Int, columns: Int) -> StrategyChoice {
    guard configuration.algorithm == .minibatch else {
      return StrategyChoice(
        strategy: .sync, reason: "Lloyd's iteration combines every worker's sums at a barrier")
    }
    switch configuration.execution.strategy {
    case .perCore: return StrategyChoice(strategy: .perCore, reason: "as requested")
    case .hogwild: return StrategyChoice(strategy: .hogwild, reason: "as requested")
    case .sync: return StrategyChoice(strategy: .sync, reason: "as requested")
    default:
      return workers > 1
        ? StrategyChoice(
          strategy: .perCore,
          reason:
            "per-core replicas meet every \(KMeansRun.rowsBetweenMeetings) rows a worker, not at a barrier per batch, "
            + "and are reproducible; shared sums (hogwild) would take "
            + "\(configuration.clusters * columns * 8) bytes of writes from every worker "
            + "every \(max(1, (configuration.batchSize + workers - 1) / workers)) rows")
        : StrategyChoice(strategy: .sync, reason: "one worker")
    }
  }

  /// Each row's nearest centre of `model` and its squared distance (in
  /// the model's space: standardised when the model has a scaler), on
  /// `threads` workers (`nil`: one per core), and the inertia
  /// `Σ ρᵢ ‖xᵢ − c(xᵢ)‖²`. The lowest centre wins ties.
  public static func assign(
    _ rows: CheckedRows, to model: ClusterModel, threads: Int? = nil, topology: Topology? = nil
  ) throws -> (clusters: [Int32], squaredDistances: [Float], inertia: Double) {
    guard rows.columns <= model.features, rows.layout == .csr || rows.columns == model.features else {
      throw TrainingError.invalidConfiguration(
        "the data has \(rows.columns) features but the model \(model.features); they must match")
    }
    guard
      model.centres.allSatisfy(\.isFinite),
      model.scaler.map({ $0.means.allSatisfy(\.isFinite) && $0.scales.allSatisfy { $0.isFinite && $0 > 0 } })
        ?? true
    else {
      throw TrainingError.invalidConfiguration(
        "the model's centres and scaling must be finite numbers (scales above 0)")
    }
    guard rows.count > 0 else { return ([], [], 0) }
    let machine = try topology ?? Topology.current()
    var execution = TrainingConfiguration.Execution()
    execution.threads = threads
    let scaled = model.scaler.map { TrainingSet.scaled(rows.block, by: $0) }
    defer { scaled?.deallocate() }
    let team = try ClusterTeam(
      rows: rows, assigning: Array(0..<Int32(rows.count)), scaled: scaled, clusters: model.clusters,
      execution: execution,
      plan: try PlacementPlan(topology: machine, workers: threads, policy: execution.placement),
      machine: machine,
      bounded: false, counters: WorkerCounters(), columns: model.features)
    model.centres.withUnsafeBufferPointer { team.state.setCentres($0.baseAddress!) }
    var distances = [Float](repeating: 0, count: rows.count)
    try distances.withUnsafeMutableBufferPointer { buffer in
      let pass = LloydPass(
        state: team.state, assignments: team.layout.assignments, bounded: false, counters: team.slots,
        distances: UnsafeSendable(buffer.baseAddress!))
      try team.team.run { try pass.run($0, first: true) }
    }
    var inertia = 0.0
    for w in 0..<team.state.workers { inertia += team.state.tallies[w * 8] }
    return (Array(UnsafeBufferPointer(start: team.state.labels, count: rows.count)), distances, inertia)
  }
}

/// What every k-means pass runs on: the rows (standardised when asked),
/// the partitions of those this process assigns dealt to pinned workers,
/// and the shared state.
struct ClusterTeam {
  let block: RowBlock
  let plan: PlacementPlan
  let layout: DataLayout
  let team: WorkerTeam
  let state: ClusterState
  /// The counters' slots, and the counters that own them (kept alive with the team).
  let slots: CounterSlots
  let counters: WorkerCounters

  /// `assigning`: the rows this process assigns, ascending. `scaled`: the
  /// rows' values standardised, to read instead of theirs. `columns`: the
  /// centres' width when it differs from the rows' (sparse rows may use
  /// fewer columns than the model).
  init(
    rows: CheckedRows, assigning: [Int32], scaled: UnsafeMutableBufferPointer<Float>?, clusters: Int,
    execution: TrainingConfiguration.Execution, plan: PlacementPlan, machine: Topology, bounded: Bool,
    counters: WorkerCounters, columns: Int? = nil, replicated: Bool = false
  ) throws {
    let source = rows.block
    block = RowBlock(
      count: source.count, columns: columns ?? source.columns, layout: source.layout,
      features: scaled.map { UnsafePointer($0.baseAddress!) } ?? source.features, offsets: source.offsets,
      indices: source.indices, labels: source.labels, weights: source.weights)
    self.plan = plan
    do {
      layout = try DataLayout(
        rows: assigning, of: block, plan: plan, on: machine,
        partitions: min(execution.partitions ?? plan.workers.count, assigning.count),
        placement: execution.dataPlacement, simulating: execution.simulatedNodes)
    } catch { throw TrainingError.placementFailed(error.description) }
    team = try WorkerTeam(topology: machine, plan: plan)
    self.counters = counters
    slots = counters.prepare(workers: plan.workers.count, bytesPerNonZero: block.layout == .dense ? 4 : 8)
    state = ClusterState(
      rows: rows.count, columns: block.columns, clusters: clusters, workers: plan.workers.count,
      bounded: bounded, replicated: replicated)
  }
}

/// One fit's runs: seeding, then Lloyd's (or the bounded) iteration until
/// the centres settle.
struct KMeansRun {
  let configuration: KMeansConfiguration
  /// The machine (for the small fit that reduces k-means‖'s candidates).
  let topology: Topology
  let block: RowBlock
  let state: ClusterState
  let team: WorkerTeam
  let assignments: [WorkerAssignment]
  /// The rows this process assigns, ascending (every row in one process).
  let rows: [Int32]
  /// The rows every process assigns, together.
  let rowsEverywhere: Int
  let counters: WorkerCounters
  let slots: CounterSlots
  let stopRequest: StopRequest?
  /// The processes the fit spans.
  let reducer: any Reducer
  /// Process 0 of several that map every row: a team over all of them, to
  /// choose the starting centres on (`nil`: process 0 chooses on its own
  /// team, over its own rows).
  let seedingTeam: (() throws -> ClusterTeam)?
  /// Mini-batch replicas add every batch into shared sums (the `hogwild`
  /// strategy chosen by ``KMeans/strategy(for:workers:columns:)``) instead of meeting.
  let sharedSums: Bool

  /// The tolerance in squared distance: `tolerance × mean_j Var(x_j)`
  /// (0 without a pass over the rows when the tolerance is 0), over every
  /// process's rows when each has its own (`everywhere`).
  static func absoluteTolerance(
    _ configuration: KMeansConfiguration, block: RowBlock, everywhere: (any Reducer)? = nil
  ) throws -> Double {
    guard configuration.tolerance > 0 else { return 0 }
    let variances = try TrainingSet.columnMoments(block, everywhere: everywhere).variances
    return configuration.tolerance * variances.reduce(0, +) / Double(block.columns)
  }

  /// Chooses run `run`'s starting centres (`initial`, when given) into the
  /// state. Across processes, process 0 chooses them (over every row, or over
  /// its own rows) and the others take its centres (a sum with their zeros,
  /// which adds nothing).
  func seed(run: Int, from initial: [Float]?) throws {
    var centres: [Float]
    if reducer.processes == 1 {
      centres = try choose(run: run, from: initial, state: state, team: team, assignments: assignments)
    } else {
      // The centres, then 1 when process 0 could not choose them.
      centres = [Float](repeating: 0, count: state.clusters * state.columns + 1)
      var failure: (any Error)?
      if reducer.rank == 0 {
        do {
          let chosen: [Float]
          if let seedingTeam {
            let full = try seedingTeam()
            chosen = try choose(
              run: run, from: initial, state: full.state, team: full.team,
              assignments: full.layout.assignments)
          } else {
            chosen = try choose(run: run, from: initial, state: state, team: team, assignments: assignments)
          }
          centres.replaceSubrange(0..<chosen.count, with: chosen)
        } catch {
          failure = error
          centres[centres.count - 1] = 1
        }
      }
      try centres.withUnsafeMutableBufferPointer { try reducer.allReduceSum($0) }
      if let failure { throw failure }
      guard centres.removeLast() == 0 else {
        throw TrainingError.invalidConfiguration(
          "process 0 could not choose the starting centres (its error says why)")
      }
    }
    centres.withUnsafeBufferPointer { state.setCentres($0.baseAddress!) }
    state.labels.update(repeating: -1, count: state.rows)
  }

  /// Run `run`'s starting centres over the rows of `assignments`.
  private func choose(
    run: Int, from initial: [Float]?, state: ClusterState, team: WorkerTeam, assignments: [WorkerAssignment]
  ) throws -> [Float] {
    var generator = SplitMix64(seed: configuration.execution.seed &+ UInt64(run) &* 0x9E37_79B9_7F4A_7C15)
    switch configuration.initialization {
    case _ where initial != nil: return initial!
    case .random:
      return try KMeansSeeding.random(block, clusters: configuration.clusters, using: &generator)
    case .kMeansPlusPlus:
      return try KMeansSeeding(state: state, block: block, team: team, assignments: assignments)
        .plusPlus(using: &generator)
    case .kMeansParallel:
      return try KMeansSeeding(state: state, block: block, team: team, assignments: assignments)
        .parallel(using: &generator, topology: topology)
    }
  }

  /// Iterates from the seeded centres; returns the final centres' inertia
  /// (with one last assignment when the run did not end stable) and why it
  /// stopped. The state's centres are the run's final ones.
  func iterate(run: Int, tolerance: Double, report: (KMeansReport) -> Void) throws -> (Double, KMeansStop) {
    var pass = LloydPass(
      state: state, assignments: assignments, bounded: configuration.algorithm == .bounded, counters: slots)
    pass.acrossProcesses = reducer.processes > 1
    if configuration.algorithm == .minibatch {
      return try iterateInBatches(run: run, tolerance: tolerance, finalPass: pass, report: report)
    }
    let k = state.clusters
    if configuration.algorithm == .bounded { state.updateSeparation() }
    for iteration in 1...configuration.maxIterations {
      counters.beginEpoch(iteration, examples: state.rows)
      let started = monotonicSeconds()
      let (inertia, changed, computed) = try assignAndCombine(pass, first: iteration == 1)
      let reseeded = try reseedEmpty()
      var shift = 0.0
      for c in 0..<k { shift += state.shifts[c] }
      if configuration.algorithm == .bounded { state.updateMovement() }
      report(
        KMeansReport(
          run: run, iteration: iteration, inertia: inertia, shift: shift, changed: changed,
          distanceShare: computed / (Double(rowsEverywhere) * Double(k)), reseeded: reseeded,
          seconds: monotonicSeconds() - started))
      if changed == 0 && reseeded == 0 { return (inertia, .stable(iteration: iteration)) }
      state.setCentres(state.next)
      if configuration.algorithm == .bounded { state.updateSeparation() }
      if shift <= tolerance {
        return (try finalInertia(pass), .converged(iteration: iteration))
      }
      if stopRequest?.isRequested == true {
        return (try finalInertia(pass), .requested(iteration: iteration))
      }
    }
    return (try finalInertia(pass), .iterationLimit)
  }

  /// Mini-batch k-means: each epoch, every worker walks its rows in a
  /// fresh block-shuffled order, a share of each batch per step; a step is
  /// one pass over the batch (assign, reduce in worker order) and the
  /// centres move to their running means. An epoch reports the sum of its
  /// batches' inertias (each row against the centres of its step) and how
  /// far the epoch moved the centres; a run ends when that is within the
  /// tolerance or at the epoch limit, with the exact inertia of one full
  /// assignment.
  private func iterateInBatches(
    run: Int, tolerance: Double, finalPass: LloydPass, report: (KMeansReport) -> Void
  ) throws -> (Double, KMeansStop) {
    let k = state.clusters
    let d = state.columns
    let workers = state.workers
    let share = max(1, (configuration.batchSize + workers - 1) / workers)
    let longest = assignments.map(\.rows.count).max() ?? 0
    let steps = (longest + share - 1) / share
    let bytesPerRow = block.layout == .dense ? d * 4 : block.nonZeros * 8 / max(block.count, 1)
    let blockRows = RowOrder.blockRows(bytesPerRow: bytesPerRow, rows: block.count / workers)
    state.seen.update(repeating: 0, count: k)
    let replicated = !state.replicas.isEmpty
    if replicated {
      state.runningSums.update(repeating: 0, count: k * d)
      for replica in state.replicas { replica.load(state.centres) }
    }
    let progressive = UnsafeMutablePointer<Double>.allocate(capacity: 2)
    defer { progressive.deallocate() }
    let totals = UnsafeSendable(progressive)
    for epoch in 1...configuration.maxIterations {
      counters.beginEpoch(epoch, examples: state.rows)
      let started = monotonicSeconds()
      let before = Array(UnsafeBufferPointer(start: state.centres, count: k * d))
      var pass = finalPass
      pass.runningMean = true
      pass.order = assignments.enumerated().map { worker, assignment in
        RowOrder.shuffled(
          assignment.rows, blockRows: blockRows, seed: configuration.execution.seed &+ UInt64(run),
          epoch: epoch,
          stream: worker)
      }
      progressive[0] = 0
      progressive[1] = 0
      let state = state
      let batches = pass
      if replicated {
        let shared = sharedSums
        try team.run { context in
          try Self.replicaEpoch(
            context, pass: batches, state: state, steps: steps, share: share, shared: shared)
        }
        for w in 0..<workers {
          progressive[0] += state.tallies[w * 8 + 3]
          progressive[1] += state.tallies[w * 8 + 4]
        }
        if shared {
          state.next.update(from: state.centres, count: k * d)
          state.runningMeans(into: state.next)
        }
        state.setCentres(state.next)
      } else {
        try team.run { context in
          for step in 0..<steps {
            try batches.run(context, first: true, window: step * share..<(step + 1) * share)
            try context.barrier.arrive()
            if context.index == 0 {
              for w in 0..<workers {
                totals.value[0] += state.tallies[w * 8]
                totals.value[1] += state.tallies[w * 8 + 1]
              }
              state.setCentres(state.next)
            }
            try context.barrier.arrive()
          }
        }
      }
      var shift = 0.0
      for i in 0..<k * d {
        let move = Double(state.centres[i]) - Double(before[i])
        shift += move * move
      }
      report(
        KMeansReport(
          run: run, iteration: epoch, inertia: progressive[0], shift: shift, changed: Int(progressive[1]),
          distanceShare: 1, reseeded: 0, seconds: monotonicSeconds() - started))
      if shift <= tolerance { return (try finalInertia(finalPass), .converged(iteration: epoch)) }
      if stopRequest?.isRequested == true {
        return (try finalInertia(finalPass), .requested(iteration: epoch))
      }
    }
    return (try finalInertia(finalPass), .iterationLimit)
  }

  /// Rows a per-core replica assigns between two meetings (at least one step).
  static let rowsBetweenMeetings = 16_384

  /// One epoch of per-core mini-batch replicas on worker `context.index`.
  /// A step assigns the worker's share of a batch against its own centres
  /// and moves them to `(S + Sₗ) / (V + Wₗ)`: the running sums and weights
  /// of every batch the replicas have merged, plus its own since they last
  /// met. Every ``rowsBetweenMeetings`` rows and at the epoch's end they
  /// meet: each worker adds up a slice of centres' sums and weights over
  /// all workers in worker order, and every replica starts again from the
  /// merged centres (in `next`). The merged centres are exactly the running
  /// means of all rows assigned so far, as in the synchronous version; only
  /// which centre a row is given differs, as a replica has not yet seen the
  /// others' batches.
  ///
  /// `shared` (Hogwild!): the replicas never meet. Each step adds the
  /// batch's sums and weights straight into the one shared `S` and `V`, with
  /// relaxed loads and stores and no lock (an update racing another's can be
  /// lost), and the worker's centres become `S / V`, with every other
  /// worker's batches so far. Not reproducible; no barrier in the epoch.
  static func replicaEpoch(
    _ context: WorkerContext, pass: LloydPass, state: ClusterState, steps: Int, share: Int, shared: Bool
  ) throws {
    let worker = context.index
    let k = state.clusters
    let d = state.columns
    let replica = state.replicas[worker]
    let pending = state.pending[worker]
    let pendingWeight = state.pendingWeights[worker]
    let sums = state.sums[worker]
    let counts = state.counts[worker]
    let tally = state.tallies + worker * 8
    let meetEvery = max(1, rowsBetweenMeetings / share)
    pending.update(repeating: 0, count: k * d)
    pendingWeight.update(repeating: 0, count: k)
    tally[3] = 0
    tally[4] = 0
    for step in 0..<steps {
      pass.assignOnly(worker, first: true, window: step * share..<(step + 1) * share)
      tally[3] += tally[0]
      tally[4] += tally[1]
      if shared {
        state.addToRunningSums(sums, weights: counts)
        state.runningMeans(into: replica.values)
        replica.load(replica.values)
        continue
      }
      // Sₗ ← Sₗ + S_batch, Wₗ ← Wₗ + W_batch; c ← (S + Sₗ) / (V + Wₗ) for the centres the batch touched.
      for c in 0..<k where counts[c] > 0 {
        pendingWeight[c] += counts[c]
        let weight = state.seen[c] + pendingWeight[c]
        for j in 0..<d {
          pending[c * d + j] += sums[c * d + j]
          replica.values[c * d + j] = Float((state.runningSums[c * d + j] + pending[c * d + j]) / weight)
        }
      }
      replica.load(replica.values)
      guard (step + 1) % meetEvery == 0 || step == steps - 1 else { continue }
      // Meet: S ← S + Σ_w Sₗ, V ← V + Σ_w Wₗ over a slice of centres, in worker order.
      try context.barrier.arrive()
      for c in (k * worker / state.workers)..<(k * (worker + 1) / state.workers) {
        for w in 0..<state.workers { state.seen[c] += state.pendingWeights[w][c] }
        for j in 0..<d {
          var sum = state.runningSums[c * d + j]
          for w in 0..<state.workers { sum += state.pending[w][c * d + j] }
          state.runningSums[c * d + j] = sum
          state.next[c * d + j] = state.seen[c] > 0 ? Float(sum / state.seen[c]) : state.centres[c * d + j]
        }
      }
      try context.barrier.arrive()
      replica.load(state.next)
      pending.update(repeating: 0, count: k * d)
      pendingWeight.update(repeating: 0, count: k)
      // No worker may write `next` at the next meeting before every replica has read it.
      try context.barrier.arrive()
    }
  }

  /// The inertia of the current centres: one more assignment, centres kept.
  private func finalInertia(_ pass: LloydPass) throws -> Double {
    try assignAndCombine(pass, first: false).inertia
  }

  /// One pass of `pass`, its tallies summed in worker order and, across
  /// processes, its centres' sums, weights and tallies summed over the
  /// processes (one all-reduce) before the centres move.
  private func assignAndCombine(_ pass: LloydPass, first: Bool) throws -> (
    inertia: Double, changed: Int, computed: Double
  ) {
    try team.run { try pass.run($0, first: first) }
    var inertia = 0.0
    var changed = 0.0
    var computed = 0.0
    for w in 0..<state.workers {
      inertia += state.tallies[w * 8]
      changed += state.tallies[w * 8 + 1]
      computed += state.tallies[w * 8 + 2]
    }
    guard reducer.processes > 1 else { return (inertia, Int(changed), computed) }
    let k = state.clusters
    let size = k * state.columns
    var combined = [Double](repeating: 0, count: size + k + 3)
    for i in 0..<size { combined[i] = state.combined[i] }
    for c in 0..<k { combined[size + c] = state.totals[c] }
    combined[size + k] = inertia
    combined[size + k + 1] = changed
    combined[size + k + 2] = computed
    try combined.withUnsafeMutableBufferPointer { try reducer.allReduceSum($0) }
    state.combined.update(from: combined, count: size)
    for c in 0..<k { state.totals[c] = combined[size + c] }
    pass.move(0..<k)
    return (combined[size + k], Int(combined[size + k + 1]), combined[size + k + 2])
  }

  /// Gives each empty cluster of the next centres the row farthest from its
  /// own centre (scikit-learn's rule; across processes, the farthest of
  /// every process's rows), taking it out of that centre's sums; returns
  /// how many were empty.
  private func reseedEmpty() throws -> Int {
    let k = state.clusters
    let d = state.columns
    let empty = (0..<k).filter { state.totals[$0] == 0 }
    guard !empty.isEmpty else { return 0 }
    for (c, far) in zip(empty, try farthestRows(empty.count)) {
      let from = far.centre
      let weight = Double(far.weight)
      for j in 0..<d {
        state.combined[from * d + j] -= weight * Double(far.values[j])
        state.next[c * d + j] = far.values[j]
      }
      state.totals[from] -= weight
      state.totals[c] = weight
      for centre in [from, c] {
        var shift = 0.0
        for j in 0..<d {
          if centre == from && state.totals[from] > 0 {
            state.next[from * d + j] = Float(state.combined[from * d + j] / state.totals[from])
          }
          let move = Double(state.next[centre * d + j]) - Double(state.centres[centre * d + j])
          shift += move * move
        }
        state.shifts[centre] = shift
      }
    }
    return empty.count
  }

  /// A row far from its centre: how far, whose (process, then row) it is,
  /// its centre, weight and values.
  private struct FarRow {
    var distance: Float
    var process: Int
    var row: Int
    var centre: Int
    var weight: Float
    var values: [Float]

    /// Farthest first; the lowest process, then row, on ties (row order when
    /// every process maps the same rows).
    static func before(_ a: FarRow, _ b: FarRow) -> Bool {
      (a.distance, -a.process, -a.row) > (b.distance, -b.process, -b.row)
    }
  }

  /// The `count` rows farthest from their centres, farthest first: this
  /// process's, then, across processes, the farthest of every process's
  /// candidates, their values gathered with them (a process may not hold
  /// another's rows).
  private func farthestRows(_ count: Int) throws -> [FarRow] {
    var found = rows.map { position -> FarRow in
      let row = Int(position)
      let centre = Int(state.labels[row])
      return FarRow(
        distance: state.squaredDistance(row, of: block, to: centre), process: reducer.rank, row: row,
        centre: centre, weight: 0,
        values: [])
    }
    found.sort(by: FarRow.before)
    found.removeLast(max(found.count - count, 0))
    for i in found.indices {
      found[i].weight = block.weight(found[i].row)
      found[i].values = dense(found[i].row)
    }
    guard reducer.processes > 1 else { return found }
    // Each process's candidates in its own slots: row + 1 (0: none), distance, centre, weight, values.
    let d = state.columns
    let width = 4 + d
    var table = [Double](repeating: 0, count: reducer.processes * count * width)
    for (i, candidate) in found.enumerated() {
      let slot = (reducer.rank * count + i) * width
      table[slot] = Double(candidate.row + 1)
      table[slot + 1] = Double(candidate.distance)
      table[slot + 2] = Double(candidate.centre)
      table[slot + 3] = Double(candidate.weight)
      for j in 0..<d { table[slot + 4 + j] = Double(candidate.values[j]) }
    }
    try table.withUnsafeMutableBufferPointer { try reducer.allReduceSum($0) }
    var everywhere: [FarRow] = []
    for slot in stride(from: 0, to: table.count, by: width) where table[slot] > 0 {
      everywhere.append(
        FarRow(
          distance: Float(table[slot + 1]), process: slot / width / count, row: Int(table[slot]) - 1,
          centre: Int(table[slot + 2]), weight: Float(table[slot + 3]),
          values: table[slot + 4..<slot + width].map { Float($0) }))
    }
    everywhere.sort(by: FarRow.before)
    return Array(everywhere.prefix(count))
  }

  /// Row `row`'s values, all `columns` of them.
  private func dense(_ row: Int) -> [Float] { KMeansSeeding.dense(block, row) }
}
