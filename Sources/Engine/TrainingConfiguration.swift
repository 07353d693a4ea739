import Dataset
import Kernels
import Learning
import Parallel
import Topology

/// How workers combine their updates (see docs/ARCHITECTURE.md, "Combining work").
public enum UpdateStrategy: String, Sendable, Codable, CaseIterable {
  /// Pick one from the data and the machine (see ``StrategyChoice``).
  case auto
  /// One shared model, updated by all workers without locks (Niu et al., 2011).
  case hogwild
  /// One model per NUMA node, lock-free inside the node, averaged across nodes
  /// every `syncEvery` examples (DimmWitted's PerNode).
  case perNode = "per-node"
  /// One model per worker, averaged every `syncEvery` examples and at the end
  /// of each epoch (model averaging).
  case perCore = "per-core"
  /// Barrier-synchronised gradient descent: partial gradients per worker, a
  /// reduction in a fixed order, one update per step. Bitwise reproducible for
  /// a given thread count and seed; the source's distributed gradient descent.
  case sync
}

/// What one update is computed from.
public enum Algorithm: String, Sendable, Codable, CaseIterable {
  /// Full-batch gradient descent: one update per epoch from every row.
  case gd
  /// Stochastic gradient descent: one update per row.
  case sgd
  /// Mini-batch gradient descent: one update per `batchSize` rows.
  case minibatch
}

/// How the step size changes over time, by name (``StepSizeSchedule`` with
/// the configuration's learning rate and L2 strength).
public enum ScheduleKind: String, Sendable, Codable, CaseIterable {
  /// `η = η₀`.
  case constant
  /// `η_t = η₀ / (1 + η₀ λ t)` (Bottou); needs an L2 strength `λ > 0`.
  case optimal
  /// `η_t = η₀ / (t + 1)^p`.
  case inverseScaling = "inverse-scaling"
  /// A step per coordinate, `η₀ / √(Gᵢ + ε²)` with `Gᵢ` the coordinate's sum
  /// of squared gradients (AdaGrad): rare features keep large steps, which
  /// sparse, power-law data needs. See ``Kernels/AdaptiveStep``.
  case adagrad
}

/// How classes are weighted against each other.
public enum ClassWeight: String, Sendable, Codable, CaseIterable {
  /// Each class weighs `rows / (classes × rows of the class)`, as
  /// scikit-learn's `class_weight="balanced"`.
  case balanced
}

/// Everything that decides how a model is trained.
public struct TrainingConfiguration: Sendable, Codable, Equatable {
  public var loss: Loss = .logistic
  /// How a binary loss serves more than two classes (`nil`: softmax for
  /// logistic loss, one-vs-rest for hinge and modified Huber).
  public var multiclass: Multiclass?
  public var strategy: UpdateStrategy = .auto
  public var algorithm: Algorithm = .sgd
  /// Passes over the training rows.
  public var epochs: Int = 10
  /// Rows per update for ``Algorithm/minibatch`` (summed over workers).
  public var batchSize: Int = 256
  /// The initial step size `η₀`.
  public var learningRate: Float = 0.01
  public var schedule: ScheduleKind = .inverseScaling
  /// The exponent `p` of ``ScheduleKind/inverseScaling``.
  public var power: Float = 0.25
  /// L1 and L2 strengths: the objective is the mean loss plus
  /// `λ₁ ‖w‖₁ + ½ λ₂ ‖w‖²`.
  public var l1: Float = 0
  public var l2: Float = 0
  /// Whether to learn an intercept.
  public var fitIntercept = true
  /// Worker threads (`nil`: one per core).
  public var threads: Int?
  /// Row partitions (`nil`: one per worker); extra partitions are dealt to
  /// workers round-robin.
  public var partitions: Int?
  /// Examples each worker processes between two synchronisation points of
  /// the replica strategies (averaging, regularisation); `nil` chooses from
  /// the data (see ``syncInterval(for:)``).
  public var syncEvery: Int?
  /// How workers are laid out over the machine.
  public var placement: PlacementPolicy = .spread
  /// Where the training rows' pages go (see ``DataPlacement``).
  public var dataPlacement: DataPlacement = .asLoaded
  /// Whether the NUMA nodes share out the rows or each trains on all of them.
  public var dataReplication: DataReplication = .shard
  /// Treats a one-node machine as this many NUMA nodes (`nil`: the real
  /// ones): its cores are split into that many pseudo-nodes, so `per-node`
  /// replicas and node-aware placement run as they would on such a machine,
  /// though all memory stays on the one real node.
  public var simulatedNodes: Int?
  /// Seeds the row shuffles.
  public var seed: UInt64 = 1
  /// Stop when the monitored loss has not improved by `tolerance` for
  /// `iterationsWithoutChange` epochs (`nil`: run every epoch).
  public var tolerance: Double?
  public var iterationsWithoutChange: Int = 5
  /// Stop as soon as the training loss is at most this (`nil`: no target).
  public var targetLoss: Double?
  /// The share of rows held out for validation (`nil`: none), chosen evenly
  /// spaced through the data so sorted files still give a fair sample.
  public var holdoutFraction: Double?
  /// Reweighs the classes (classification losses only): `.balanced` gives
  /// each class the same total weight.
  public var classWeight: ClassWeight?
  /// Standardise features before training (sparse data: scale only); the
  /// scaling is folded into the final weights.
  public var standardize = false

  /// The default configuration.
  public init() {}

  /// The step-size schedule the configuration describes.
  public var stepSizes: StepSizeSchedule {
    switch schedule {
    case .constant: .constant(learningRate)
    case .optimal: .optimal(initial: learningRate, lambda: l2)
    case .inverseScaling: .inverseScaling(initial: learningRate, exponent: power)
    case .adagrad: .constant(learningRate)
    }
  }

  /// The per-coordinate step under the AdaGrad schedule, with the penalties
  /// folded into each step; `nil` under the global schedules.
  public var adaptiveStep: AdaptiveStep? {
    schedule == .adagrad ? AdaptiveStep(rate: learningRate, l1: l1, l2: l2) : nil
  }

  /// The examples per worker between meetings: ``syncEvery`` when set;
  /// otherwise 1,024 for dense rows, and for sparse rows enough that a
  /// meeting (which walks every weight) costs about a sixth of the work
  /// between two, `6 × columns / non-zeros per row`, kept within 1,024…4,096
  /// so replicas do not drift far apart.
  public func syncInterval(for rows: RowBlock) -> Int {
    if let syncEvery { return syncEvery }
    guard rows.layout == .csr, rows.count > 0 else { return 1024 }
    let perRow = max(1, rows.nonZeros / rows.count)
    return min(4096, max(1024, 6 * rows.columns / perRow))
  }

  /// Whether row `row` is held out for validation: with a holdout fraction
  /// `f`, row `i` is held out when ⌊(i+1)f⌋ > ⌊i f⌋, evenly spaced rows that
  /// make up about `f` of the data, fair even when the file is sorted.
  public func isHeldOut(_ row: Int) -> Bool {
    guard let fraction = holdoutFraction, fraction > 0 else { return false }
    return (Double(row + 1) * fraction).rounded(.down) > (Double(row) * fraction).rounded(.down)
  }

  /// Checks every value, so that training never starts with a configuration
  /// that cannot work.
  /// Checks the settings that depend on the machine (and everything
  /// ``validate()`` checks): simulated nodes need a one-node machine with at
  /// least that many cores.
  public func validate(on machine: Topology) throws(TrainingError) {
    try validate()
    guard let simulatedNodes else { return }
    guard machine.nodes.count == 1 else {
      throw .invalidConfiguration(
        "--simulate-nodes is for one-node machines; this one has \(machine.nodes.count) NUMA nodes")
    }
    guard simulatedNodes <= machine.cores.count else {
      throw .invalidConfiguration(
        "--simulate-nodes must be from 1 to the \(machine.cores.count) cores to split (got \(simulatedNodes))"
      )
    }
  }

  public func validate() throws(TrainingError) {
    func invalid(_ message: String) -> TrainingError { .invalidConfiguration(message) }
    guard epochs >= 1 else { throw invalid("epochs must be at least 1 (got \(epochs))") }
    guard learningRate.isFinite, learningRate > 0 else {
      throw invalid("the learning rate must be a finite number above 0 (got \(learningRate))")
    }
    guard l1.isFinite, l1 >= 0, l2.isFinite, l2 >= 0 else {
      throw invalid("L1 and L2 strengths must be finite and at least 0 (got l1 \(l1), l2 \(l2))")
    }
    guard power.isFinite, power >= 0 else {
      throw invalid("the schedule power must be at least 0 (got \(power))")
    }
    guard batchSize >= 1 else { throw invalid("the batch size must be at least 1 (got \(batchSize))") }
    if let simulatedNodes, simulatedNodes < 1 {
      throw invalid("--simulate-nodes must be at least 1 (got \(simulatedNodes))")
    }
    if let syncEvery, syncEvery < 1 {
      throw invalid("sync-every must be at least 1 example (got \(syncEvery))")
    }
    if let threads, threads < 1 { throw invalid("threads must be at least 1 (got \(threads))") }
    if let partitions, partitions < 1 { throw invalid("partitions must be at least 1 (got \(partitions))") }
    if let holdoutFraction, !(holdoutFraction > 0 && holdoutFraction < 1) {
      throw invalid("the holdout fraction must be between 0 and 1, exclusive (got \(holdoutFraction))")
    }
    guard iterationsWithoutChange >= 1 else {
      throw invalid("iterations without change must be at least 1 (got \(iterationsWithoutChange))")
    }
    if loss == .softmax, multiclass == .ovr {
      throw invalid("--loss softmax is itself multiclass; leave out --multiclass ovr")
    }
    if multiclass == .softmax, loss != .logistic, loss != .softmax {
      throw invalid(
        "softmax is multinomial logistic regression; use --multiclass ovr with \(loss.rawValue) loss")
    }
    if multiclass != nil, loss == .squared {
      throw invalid("--multiclass is for classification; squared loss is regression")
    }
    if schedule == .optimal, l2 <= 0 {
      throw invalid(
        "the optimal schedule η₀/(1 + η₀λt) needs an L2 strength above 0; set l2 or use another schedule")
    }
    if algorithm == .gd, strategy != .auto, strategy != .sync {
      throw invalid(
        "gd is full-batch gradient descent, whose workers combine at barriers: use strategy sync (or auto), not \(strategy.rawValue)"
      )
    }
    if strategy == .sync, algorithm == .sgd {
      throw invalid(
        "strategy sync combines gradients at barriers; use algorithm gd or minibatch with it, not sgd")
    }
  }
}

/// Why training could not start or could not finish.
public enum TrainingError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A configuration value is out of range or two values conflict.
  case invalidConfiguration(String)
  /// The labels do not fit the loss (e.g. three classes for logistic loss).
  case labelsDoNotFitLoss(String)
  /// The data has no rows to train on.
  case noTrainingRows
  /// The loss became infinite or NaN; the last good model is kept.
  case diverged(epoch: Int, learningRate: Float)
  /// The training rows could not be placed on the requested NUMA nodes.
  case placementFailed(String)

  public var description: String {
    switch self {
    case .invalidConfiguration(let message): message
    case .labelsDoNotFitLoss(let message): message
    case .noTrainingRows: "there are no rows to train on"
    case .placementFailed(let message): message
    case .diverged(let epoch, let rate):
      "training diverged in epoch \(epoch) (the loss is no longer finite) with learning rate \(rate); "
        + "try a learning rate 10× smaller, --standardize, or the optimal schedule with some L2"
    }
  }
}
