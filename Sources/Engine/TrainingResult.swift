import Learning
import Parallel
import Topology

/// What happened in one epoch.
public struct EpochReport: Sendable, Equatable, Codable {
  /// 1, 2, ...
  public var epoch: Int
  /// The regularised training objective at the end of the epoch.
  public var trainingLoss: Double
  /// The mean loss on held-out rows, if any.
  public var validationLoss: Double?
  /// Accuracy (classification) or MSE (regression) on held-out rows, if any.
  public var validationMetric: Double?
  /// Seconds spent training (not evaluating) in this epoch.
  public var seconds: Double
  /// Seconds spent computing the losses above.
  public var evaluationSeconds: Double
  /// Training rows processed per second.
  public var examplesPerSecond: Double
  /// Bytes of features (and indices) read per second by the training pass.
  public var bytesPerSecond: Double
}

/// Why training ended.
public enum StopReason: Sendable, Equatable, Codable, CustomStringConvertible {
  /// All requested epochs ran.
  case completed
  /// The monitored loss stopped improving (early stopping).
  case converged(epoch: Int)
  /// The loss became non-finite; the model is the last good one.
  case diverged(epoch: Int, learningRate: Float)
  /// The training loss reached the configuration's target.
  case reachedTarget(epoch: Int)
  /// The caller asked the fit to stop (``StopRequest``) during this epoch.
  case requested(epoch: Int)

  public var description: String {
    switch self {
    case .completed: "completed every epoch"
    case .converged(let epoch): "stopped early after epoch \(epoch): the loss no longer improved"
    case .diverged(let epoch, let rate): TrainingError.diverged(epoch: epoch, learningRate: rate).description
    case .reachedTarget(let epoch): "reached the target loss in epoch \(epoch)"
    case .requested(let epoch): "stopped after epoch \(epoch), as the caller asked"
    }
  }
}

/// The outcome of ``Trainer/fit(_:progress:)``.
public struct TrainingResult: Sendable {
  /// The trained model (for raw, unscaled features).
  public var model: LinearModel
  /// One report per epoch run.
  public var history: [EpochReport]
  /// The strategy used, and why.
  public var strategy: StrategyChoice
  /// Workers, and where they ran.
  public var placement: [Int]
  /// Why training ended.
  public var stopReason: StopReason
  /// Training rows and held-out rows.
  public var trainingRows: Int
  public var validationRows: Int
  /// What each worker did, and where its data was.
  public var workers: [WorkerStats]
  /// Whether the features were standardised, and why (from the data when
  /// the configuration left it open).
  public var scaling: (standardized: Bool, reason: String) = (false, "as requested")
  /// The learning rate `η₀` trained with, and why (chosen from the data
  /// when the configuration left it open).
  public var learningRate: (value: Float, reason: String) = (0, "as requested")
  /// The step-size schedule trained with, and why.
  public var schedule: (kind: ScheduleKind, reason: String) = (.constant, "as requested")
  /// The algorithm trained with, and why (chosen from the data when the
  /// configuration left it to `auto`).
  public var algorithm: (kind: Algorithm, reason: String) = (.sgd, "as requested")
  /// The L2 strength `λ₂` trained with, and why (chosen from the data when
  /// the configuration left it open).
  public var l2: (value: Float, reason: String) = (0, "as requested")
  /// How the run decided when to stop, in words (the early-stopping rule
  /// when the configuration left the epochs and tolerance open).
  public var stopping = "as requested"
  /// The share of the rows held out for validation (as by
  /// ``TrainingConfiguration/isHeldOut(_:)``): the configuration's, or the
  /// early-stopping rule's own; `nil` when none was (or a test set served).
  public var holdoutFraction: Double?
  /// The epoch whose model ``model`` is: the last that finished, or under
  /// a stopping rule that monitors held-out rows, the one of the least
  /// validation loss (0: none finished).
  public var modelEpoch = 0
  /// L-BFGS with warm-start epochs: the last of the SGD epochs it started from.
  public var warmStart: EpochReport?
}

/// One worker of a training run: where it ran, what it did, and how much of
/// its data was in its own NUMA node's memory.
public struct WorkerStats: Sendable, Equatable, Codable {
  /// The worker's number.
  public var worker: Int
  /// The CPU it was pinned to.
  public var cpu: Int
  /// Its NUMA node: the logical index (a pseudo-node when nodes are simulated).
  public var node: Int
  /// The kernel's number of the node whose memory it used.
  public var memoryNode: Int
  /// The replica of the model it wrote (`sync`, `hogwild`: 0).
  public var replica: Int
  /// Its work and time, summed over the run.
  public var counts: WorkerCounts
  /// The share of its partitions' resident pages on its node (`nil`: the
  /// kernel could not say, e.g. without NUMA support). With simulated nodes,
  /// the share of its partitions' bytes placed on its pseudo-node.
  public var localPageShare: Double?

  /// Whether much of its data was on another node: it paid remote reads.
  public var isMisplaced: Bool { (localPageShare ?? 1) < 0.9 }

  public init(
    worker: Int, cpu: Int, node: Int, memoryNode: Int, replica: Int, counts: WorkerCounts,
    localPageShare: Double?
  ) {
    self.worker = worker
    self.cpu = cpu
    self.node = node
    self.memoryNode = memoryNode
    self.replica = replica
    self.counts = counts
    self.localPageShare = localPageShare
  }
}

extension DataLayout {
  /// What each worker of a run did (from `counters`), where it ran, the
  /// replica it wrote, and how much of its partitions' memory is on its
  /// node: on a real machine, the kernel's account of the resident pages; on
  /// simulated nodes, where every page is on the one real node, the share of
  /// bytes placed on the worker's pseudo-node.
  func workerStats(plan: PlacementPlan, counters: WorkerCounters, replicaOf: [Int]) -> [WorkerStats] {
    zip(plan.workers.indices, counters.perWorker).map { worker, counts in
      WorkerStats(
        worker: worker, cpu: plan.workers[worker].cpu, node: assignments[worker].node,
        memoryNode: assignments[worker].memoryNode, replica: replicaOf[worker], counts: counts,
        localPageShare: localShare(of: worker))
    }
  }
}
