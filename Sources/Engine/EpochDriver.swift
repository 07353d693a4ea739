import Parallel

/// What an algorithm hands the driver: an epoch on every worker, the model
/// as it stands after one, and the figures the driver reports and stops on.
/// Linear training (``LinearTraining``) is one; k-means is meant to be another.
protocol EpochAlgorithm: Sendable {
  /// The model between epochs, as the algorithm copies it out.
  associatedtype Snapshot
  /// Rows one epoch visits over all workers.
  var examplesPerEpoch: Int { get }
  /// Feature (and index) bytes one epoch reads.
  var bytesPerEpoch: Double { get }
  /// Runs epoch `epoch` (from 1) on worker `context.index`.
  func epoch(_ context: WorkerContext, epoch: Int) throws
  /// The model now, copied out.
  func snapshot() -> Snapshot
  /// The losses of `snapshot`, computed by the team, and whether the model
  /// and its loss are finite (not: training diverged).
  func losses(of snapshot: Snapshot, team: WorkerTeam) throws -> (losses: EpochLosses, finite: Bool)
  /// Why training stops when epoch `epoch` diverged (with the step size then).
  func divergence(in epoch: Int) -> StopReason
  /// A checkpoint of `snapshot` with the driver's `state` and the model
  /// kept so far (`kept`: the least validation loss's, when one is kept).
  func checkpoint(_ snapshot: Snapshot, kept: Snapshot?, state: DriverState) -> Checkpoint
  /// Runs epoch `epoch` on the team: by default ``epoch(_:epoch:)`` on every
  /// worker at once; a method that decides between passes (L-BFGS and its
  /// line search) drives the team itself.
  func run(epoch: Int, on team: WorkerTeam) throws
  /// Whether the method can make no further progress (L-BFGS at the
  /// optimum, to the precision of its gradients).
  var finished: Bool { get }
}

extension EpochAlgorithm {
  func run(epoch: Int, on team: WorkerTeam) throws {
    try team.run { context in try self.epoch(context, epoch: epoch) }
  }

  var finished: Bool { false }
}

/// The losses an epoch reports.
struct EpochLosses {
  /// The objective being minimised (mean training loss plus penalty).
  var training: Double
  var validation: Double?
  /// Accuracy (classification) or MSE (regression) on held-out rows.
  var validationMetric: Double?
}

/// The driver's own state, which a checkpoint keeps and a resumed run
/// starts from: epochs done, their reports, and early stopping's memory.
struct DriverState {
  var epoch = 0
  var history: [EpochReport] = []
  /// The best monitored loss so far (`.infinity`: none yet).
  var best = Double.infinity
  var epochsWithoutImprovement = 0
  /// The epoch of the model kept for its least validation loss, and that
  /// loss (`nil`: none kept yet).
  var kept: (epoch: Int, loss: Double)? = nil
}

/// The epoch loop every algorithm shares: run an epoch on the team, time
/// it, take the losses, stop on divergence (keeping the last good model), on
/// a target loss or when the monitored loss stops improving, write
/// checkpoints, and report each epoch. Under early stopping that watches
/// held-out rows (`keepsBest`) the model kept is the one of the least
/// validation loss, not the last (checkpoints keep it too).
struct EpochDriver {
  let team: WorkerTeam
  let counters: WorkerCounters
  /// The last epoch to run.
  let epochs: Int
  let tolerance: Double?
  /// Whether `tolerance` is a share of the least monitored loss so far
  /// rather than an amount.
  var relativeTolerance = false
  /// Whether the training loss is watched even when there is a validation loss.
  var watchesTraining = false
  /// Whether the model of the least validation loss is kept rather than the last.
  var keepsBest = false
  let iterationsWithoutChange: Int
  let targetLoss: Double?
  let checkpointEvery: Int?
  /// Ends the run after the epoch in which it is requested.
  var stopRequest: StopRequest? = nil

  /// The run's end: the model kept and its epoch (0: none finished), every
  /// epoch's report, and why it stopped.
  struct Outcome<Snapshot> {
    var kept: Snapshot
    var keptEpoch: Int
    var history: [EpochReport]
    var stopReason: StopReason
  }

  /// Runs `algorithm` from `state` (a resumed run's, with the model it
  /// kept, or a fresh one) until one of the stopping rules holds or a stop
  /// is requested.
  func run<A: EpochAlgorithm>(
    _ algorithm: A, from start: DriverState, kept keptAtStart: A.Snapshot? = nil,
    checkpoint: (Checkpoint) throws -> Void, progress: (EpochReport) -> Void
  ) throws -> Outcome<A.Snapshot> {
    var state = start
    var lastGood = algorithm.snapshot()
    var kept = keepsBest ? keptAtStart : nil
    func outcome(_ reason: StopReason) -> Outcome<A.Snapshot> {
      if let kept, let epoch = state.kept?.epoch {
        return Outcome(kept: kept, keptEpoch: epoch, history: state.history, stopReason: reason)
      }
      return Outcome(kept: lastGood, keptEpoch: state.epoch, history: state.history, stopReason: reason)
    }
    let first = state.epoch + 1
    for epoch in first..<max(first, epochs + 1) {
      counters.beginEpoch(epoch, examples: algorithm.examplesPerEpoch)
      let started = monotonicSeconds()
      try algorithm.run(epoch: epoch, on: team)
      let trained = monotonicSeconds()
      let snapshot = algorithm.snapshot()
      let (losses, finite) = try algorithm.losses(of: snapshot, team: team)
      let seconds = trained - started
      let report = EpochReport(
        epoch: epoch, trainingLoss: losses.training, validationLoss: losses.validation,
        validationMetric: losses.validationMetric, seconds: seconds,
        evaluationSeconds: monotonicSeconds() - trained,
        examplesPerSecond: Double(algorithm.examplesPerEpoch) / seconds,
        bytesPerSecond: algorithm.bytesPerEpoch / seconds)
      guard finite, report.trainingLoss.isFinite else { return outcome(algorithm.divergence(in: epoch)) }
      lastGood = snapshot
      state.epoch = epoch
      state.history.append(report)
      if keepsBest, let loss = report.validationLoss, loss < (state.kept?.loss ?? .infinity) {
        kept = snapshot
        state.kept = (epoch, loss)
      }
      progress(report)
      if stopRequest?.isRequested == true { return outcome(.requested(epoch: epoch)) }
      if let targetLoss, report.trainingLoss <= targetLoss { return outcome(.reachedTarget(epoch: epoch)) }
      if algorithm.finished { return outcome(.converged(epoch: epoch)) }
      if let tolerance {
        let monitored = watchesTraining ? report.trainingLoss : report.validationLoss ?? report.trainingLoss
        let margin = relativeTolerance && state.best.isFinite ? tolerance * abs(state.best) : tolerance
        if monitored > state.best - margin {
          state.epochsWithoutImprovement += 1
          if state.epochsWithoutImprovement >= iterationsWithoutChange {
            return outcome(.converged(epoch: epoch))
          }
        } else {
          state.epochsWithoutImprovement = 0
        }
        state.best = min(state.best, monitored)
      }
      if let checkpointEvery, epoch % checkpointEvery == 0 {
        try checkpoint(algorithm.checkpoint(snapshot, kept: kept, state: state))
      }
    }
    return outcome(.completed)
  }
}
