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
  /// Chosen from the data when training starts (see
  /// `Trainer.automaticAlgorithm`): ``lbfgs`` to the optimum on small data,
  /// ``sgd`` otherwise; the result says which and why.
  case auto
  /// Full-batch gradient descent: one update per epoch from every row.
  case gd
  /// Stochastic gradient descent: one update per row.
  case sgd
  /// Mini-batch gradient descent: one update per `batchSize` rows.
  case minibatch
  /// Limited-memory BFGS on full gradients (strategy `sync`): each epoch is
  /// one quasi-Newton iteration, with as many passes as its line search
  /// needs. See ``Learning/LBFGSHistory``.
  case lbfgs
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

/// Everything that decides how a model is trained, in four parts: what is
/// minimised (``Problem``), how each update is computed (``Optimizer``), how
/// the work is spread over the machine (``Execution``), and when to stop
/// (``Stopping``).
///
/// Encoded flat, one key per setting, as before the parts existed, so model
/// files and checkpoints of every version read alike.
public struct TrainingConfiguration: Sendable, Codable, Equatable {
  /// What is minimised: the objective `mean ρᵢ ℓ(xᵢ, yᵢ) / mean ρᵢ + λ₁ ‖W‖₁ + ½ λ₂ ‖W‖²`.
  public struct Problem: Sendable, Equatable {
    public var loss: Loss = .logistic
    /// How a binary loss serves more than two classes (`nil`: softmax for
    /// logistic loss, one-vs-rest for hinge and modified Huber).
    public var multiclass: Multiclass?
    /// L1 and L2 strengths: the objective is the mean loss plus
    /// `λ₁ ‖W‖₁ + ½ λ₂ ‖W‖²` (intercepts are never penalised). An L2
    /// strength of `nil` (the default) is chosen from the data when training
    /// starts (see `Trainer.automaticL2`: cross-validated on small data), and
    /// the result says which and why.
    public var l1: Float = 0
    public var l2: Float?
    /// The L2 strength trained with: `l2`, once chosen (0 before).
    var l2Strength: Float { l2 ?? 0 }
    /// Whether to learn intercepts.
    public var fitIntercept = true
    /// Reweighs the classes (classification losses only): `.balanced` gives
    /// each class the same total weight.
    public var classWeight: ClassWeight?
    /// The classes a classifier has (labels, any order), when they are known
    /// beforehand: training rows may then lack some of them (one batch of a
    /// stream) and must hold no other. `nil`: the distinct training labels.
    public var classes: [Float]?
    /// Standardise features before training (sparse data: scale only); the
    /// scaling is folded into the final weights. `nil` (the default) decides
    /// from the data: dense features whose scales differ are standardised,
    /// features already on one scale and sparse data are not (see
    /// `TrainingSet.scalingNeed`); the result says which and why.
    public var standardize: Bool?
  }

  /// How each update is computed.
  public struct Optimizer: Sendable, Equatable {
    public var algorithm: Algorithm = .auto
    /// The initial step size `η₀`; `nil` (the default) chooses it from the
    /// data when training starts (see `Trainer.automaticRate`), and the
    /// result says which and why.
    public var learningRate: Float?
    /// How the step size changes; `nil` (the default) chooses from the
    /// algorithm and the data when training starts (see
    /// `Trainer.automaticSchedule`), and the result says which and why.
    public var schedule: ScheduleKind?
    /// The exponent `p` of ``ScheduleKind/inverseScaling``.
    public var power: Float = 0.25
    /// Rows per update for ``Algorithm/minibatch`` (summed over workers).
    public var batchSize: Int = 256
    /// The (step, gradient change) pairs ``Algorithm/lbfgs`` keeps.
    public var memory: Int = 10
    /// L-BFGS: epochs of SGD on per-core replicas, averaged, that give its
    /// starting point (0: it starts from zeros). Vowpal Wabbit's terascale
    /// learner starts its L-BFGS so.
    public var warmStartEpochs: Int = 0
  }

  /// How the work is spread over the machine.
  public struct Execution: Sendable, Equatable {
    public var strategy: UpdateStrategy = .auto
    /// Worker threads (`nil`: one per core).
    public var threads: Int?
    /// Row partitions (`nil`: one per worker); extra partitions are dealt to
    /// workers round-robin.
    public var partitions: Int?
    /// Examples each worker processes between two synchronisation points of
    /// the replica strategies (averaging, regularisation); `nil` chooses from
    /// the data (see ``TrainingConfiguration/syncInterval(for:)``).
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
  }

  /// When to stop, and what to validate on.
  public struct Stopping: Sendable, Equatable {
    /// Passes over the training rows (L-BFGS: iterations), at most; `nil`
    /// (the default) chooses from the algorithm when training starts (see
    /// `Trainer.automaticEpochs`).
    public var epochs: Int?
    /// Stop when the monitored loss has not improved by `tolerance` for
    /// `iterationsWithoutChange` epochs (`nil`: run every epoch).
    public var tolerance: Double?
    public var iterationsWithoutChange: Int = 5
    /// Stop as soon as the training loss is at most this (`nil`: no target).
    public var targetLoss: Double?
    /// The share of rows held out for validation (`nil`: none), chosen evenly
    /// spaced through the data so sorted files still give a fair sample.
    public var holdoutFraction: Double?
    /// The training loss each epoch reports: `false` (the default) adds up
    /// each row's loss at the margin its step computes anyway, as the epoch
    /// goes (what Vowpal Wabbit reports; exact for full-batch `gd`, where it
    /// is the loss of the model the epoch started from); `true` computes it
    /// in a separate pass over the training rows after each epoch, which
    /// costs 60–90% of an SGD epoch. The penalty is the end-of-epoch model's
    /// either way; validation losses are always exact.
    public var exactLoss = false
  }

  public var problem = Problem()
  public var optimizer = Optimizer()
  public var execution = Execution()
  public var stopping = Stopping()

  /// The default configuration.
  public init() {}

  /// One key per setting, as the configuration was encoded before it had parts.
  private enum CodingKeys: String, CodingKey, CaseIterable {
    case loss, multiclass, l1, l2, fitIntercept, classWeight, classes, standardize
    case algorithm, learningRate, schedule, power, batchSize, memory, warmStartEpochs
    case strategy, threads, partitions, syncEvery, placement, dataPlacement, dataReplication, simulatedNodes,
      seed
    case epochs, tolerance, iterationsWithoutChange, targetLoss, holdoutFraction, exactLoss
  }

  /// The name of every setting in the flat encoding (the JSON keys).
  public static var settingNames: [String] { CodingKeys.allCases.map(\.stringValue) }

  /// Reads the flat encoding; a setting a file lacks keeps its default.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
      if let found = try c.decodeIfPresent(T.self, forKey: key) { value = found }
    }
    func read<T: Decodable>(_ key: CodingKeys, _ value: inout T?) throws {
      value = try c.decodeIfPresent(T.self, forKey: key)
    }
    try read(.loss, &problem.loss)
    try read(.multiclass, &problem.multiclass)
    try read(.l1, &problem.l1)
    try read(.l2, &problem.l2)
    try read(.fitIntercept, &problem.fitIntercept)
    try read(.classWeight, &problem.classWeight)
    try read(.classes, &problem.classes)
    try read(.standardize, &problem.standardize)
    try read(.algorithm, &optimizer.algorithm)
    try read(.learningRate, &optimizer.learningRate)
    try read(.schedule, &optimizer.schedule)
    try read(.power, &optimizer.power)
    try read(.batchSize, &optimizer.batchSize)
    try read(.memory, &optimizer.memory)
    try read(.warmStartEpochs, &optimizer.warmStartEpochs)
    try read(.strategy, &execution.strategy)
    try read(.threads, &execution.threads)
    try read(.partitions, &execution.partitions)
    try read(.syncEvery, &execution.syncEvery)
    try read(.placement, &execution.placement)
    try read(.dataPlacement, &execution.dataPlacement)
    try read(.dataReplication, &execution.dataReplication)
    try read(.simulatedNodes, &execution.simulatedNodes)
    try read(.seed, &execution.seed)
    try read(.epochs, &stopping.epochs)
    try read(.tolerance, &stopping.tolerance)
    try read(.iterationsWithoutChange, &stopping.iterationsWithoutChange)
    try read(.targetLoss, &stopping.targetLoss)
    try read(.holdoutFraction, &stopping.holdoutFraction)
    try read(.exactLoss, &stopping.exactLoss)
  }

  /// Writes the flat encoding.
  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(problem.loss, forKey: .loss)
    try c.encodeIfPresent(problem.multiclass, forKey: .multiclass)
    try c.encode(problem.l1, forKey: .l1)
    try c.encodeIfPresent(problem.l2, forKey: .l2)
    try c.encode(problem.fitIntercept, forKey: .fitIntercept)
    try c.encodeIfPresent(problem.classWeight, forKey: .classWeight)
    try c.encodeIfPresent(problem.classes, forKey: .classes)
    try c.encodeIfPresent(problem.standardize, forKey: .standardize)
    try c.encode(optimizer.algorithm, forKey: .algorithm)
    try c.encodeIfPresent(optimizer.learningRate, forKey: .learningRate)
    try c.encodeIfPresent(optimizer.schedule, forKey: .schedule)
    try c.encode(optimizer.power, forKey: .power)
    try c.encode(optimizer.batchSize, forKey: .batchSize)
    try c.encode(optimizer.memory, forKey: .memory)
    try c.encode(optimizer.warmStartEpochs, forKey: .warmStartEpochs)
    try c.encode(execution.strategy, forKey: .strategy)
    try c.encodeIfPresent(execution.threads, forKey: .threads)
    try c.encodeIfPresent(execution.partitions, forKey: .partitions)
    try c.encodeIfPresent(execution.syncEvery, forKey: .syncEvery)
    try c.encode(execution.placement, forKey: .placement)
    try c.encode(execution.dataPlacement, forKey: .dataPlacement)
    try c.encode(execution.dataReplication, forKey: .dataReplication)
    try c.encodeIfPresent(execution.simulatedNodes, forKey: .simulatedNodes)
    try c.encode(execution.seed, forKey: .seed)
    try c.encodeIfPresent(stopping.epochs, forKey: .epochs)
    try c.encodeIfPresent(stopping.tolerance, forKey: .tolerance)
    try c.encode(stopping.iterationsWithoutChange, forKey: .iterationsWithoutChange)
    try c.encodeIfPresent(stopping.targetLoss, forKey: .targetLoss)
    try c.encodeIfPresent(stopping.holdoutFraction, forKey: .holdoutFraction)
    try c.encode(stopping.exactLoss, forKey: .exactLoss)
  }

  /// The step-size schedule the configuration describes (a configuration
  /// whose rate is still to be chosen from the data has none yet).
  public var stepSizes: StepSizeSchedule {
    guard let rate = optimizer.learningRate, let schedule = optimizer.schedule else {
      preconditionFailure("the learning rate and schedule are chosen from the data when training starts")
    }
    switch schedule {
    case .constant: return .constant(rate)
    case .optimal: return .optimal(initial: rate, lambda: problem.l2Strength)
    case .inverseScaling: return .inverseScaling(initial: rate, exponent: optimizer.power)
    case .adagrad: return .constant(rate)
    }
  }

  /// The per-coordinate step under the AdaGrad schedule, with the penalties
  /// folded into each step; `nil` under the global schedules.
  public var adaptiveStep: AdaptiveStep? {
    optimizer.schedule == .adagrad
      ? AdaptiveStep(rate: stepSizes.rate(at: 0), l1: problem.l1, l2: problem.l2Strength) : nil
  }

  /// The examples per worker between meetings: `execution.syncEvery` when
  /// set; otherwise 1,024 for dense rows, and for sparse rows enough that a
  /// meeting (which walks every weight) costs about a twentieth of the work
  /// between two, `20 × columns / non-zeros per row`, kept within
  /// 1,024…16,384. Sparse replicas add up their changes at a meeting, so a
  /// long interval loses nothing: on 1,000,000 power-law rows of 80 over
  /// 100,000 features, 2 threads reached one thread's loss at 4,096 and at
  /// 16,384, and merges and waits fell from about 15% of worker time to 5%.
  /// (On 16 cores, with merges that average, intervals of 1,024 and 4,096
  /// gave about the same loss per epoch as this one at 1.3–2.5× its time.)
  public func syncInterval(for rows: RowBlock) -> Int {
    syncInterval(layout: rows.layout, columns: rows.columns, nonZeros: rows.nonZeros, rows: rows.count)
  }

  /// The same from the rows' shape: their layout, columns, stored values and count.
  func syncInterval(layout: Layout, columns: Int, nonZeros: Int, rows: Int) -> Int {
    if let every = execution.syncEvery { return every }
    guard layout == .csr, rows > 0 else { return 1024 }
    let perRow = max(1, nonZeros / rows)
    return min(16_384, max(1024, 20 * columns / perRow))
  }

  /// Whether row `row` is held out for validation: with a holdout fraction
  /// `f`, row `i` is held out when ⌊(i+1)f⌋ > ⌊i f⌋, evenly spaced rows that
  /// make up about `f` of the data, fair even when the file is sorted.
  public func isHeldOut(_ row: Int) -> Bool {
    guard let fraction = stopping.holdoutFraction, fraction > 0 else { return false }
    return (Double(row + 1) * fraction).rounded(.down) > (Double(row) * fraction).rounded(.down)
  }

  /// Checks the settings that depend on the machine (and everything
  /// ``validate()`` checks): simulated nodes need a one-node machine with at
  /// least that many cores.
  public func validate(on machine: Topology) throws(TrainingError) {
    try validate()
    guard let nodes = execution.simulatedNodes else { return }
    guard machine.nodes.count == 1 else {
      throw .invalidConfiguration(
        "--simulate-nodes is for one-node machines; this one has \(machine.nodes.count) NUMA nodes")
    }
    guard nodes <= machine.cores.count else {
      throw .invalidConfiguration(
        "--simulate-nodes must be from 1 to the \(machine.cores.count) cores to split (got \(nodes))")
    }
  }

  /// The largest epoch count, batch size, sync interval or partition count
  /// (a billion): far past any run, and far from overflowing the counts
  /// derived from them.
  public static let largestCount = 1_000_000_000
  /// The most worker threads (and simulated nodes).
  public static let mostThreads = 65_536

  /// Checks every value, so that training never starts with a configuration
  /// that cannot work.
  public func validate() throws(TrainingError) {
    func invalid(_ message: String) -> TrainingError { .invalidConfiguration(message) }
    let (problem, optimizer, execution, stopping) = (problem, optimizer, execution, stopping)
    if let epochs = stopping.epochs, epochs < 1 { throw invalid("epochs must be at least 1 (got \(epochs))") }
    if let rate = optimizer.learningRate, !(rate.isFinite && rate > 0) {
      throw invalid("the learning rate must be a finite number above 0 (got \(rate))")
    }
    guard problem.l1.isFinite, problem.l1 >= 0, problem.l2Strength.isFinite, problem.l2Strength >= 0 else {
      throw invalid(
        "L1 and L2 strengths must be finite and at least 0 (got l1 \(problem.l1), l2 \(problem.l2Strength))")
    }
    if let classes = problem.classes {
      guard problem.loss.isClassification else {
        throw invalid("classes are given, but \(problem.loss.rawValue) loss is not a classifier's")
      }
      guard classes.allSatisfy(\.isFinite), Set(classes).count == classes.count, classes.count >= 2 else {
        throw invalid("the classes must be at least 2 distinct finite labels (got \(classes.count))")
      }
    }
    guard optimizer.power.isFinite, optimizer.power >= 0 else {
      throw invalid("the schedule power must be at least 0 (got \(optimizer.power))")
    }
    guard optimizer.batchSize >= 1 else {
      throw invalid("the batch size must be at least 1 (got \(optimizer.batchSize))")
    }
    if let nodes = execution.simulatedNodes, nodes < 1 {
      throw invalid("--simulate-nodes must be at least 1 (got \(nodes))")
    }
    if let every = execution.syncEvery, every < 1 {
      throw invalid("sync-every must be at least 1 example (got \(every))")
    }
    if let threads = execution.threads, threads < 1 {
      throw invalid("threads must be at least 1 (got \(threads))")
    }
    if let partitions = execution.partitions, partitions < 1 {
      throw invalid("partitions must be at least 1 (got \(partitions))")
    }
    if let fraction = stopping.holdoutFraction, !(fraction > 0 && fraction < 1) {
      throw invalid("the holdout fraction must be between 0 and 1, exclusive (got \(fraction))")
    }
    guard stopping.iterationsWithoutChange >= 1 else {
      throw invalid("iterations without change must be at least 1 (got \(stopping.iterationsWithoutChange))")
    }
    // Upper bounds keep every count the engine multiplies or adds to inside Int.
    let counts: [(String, Int?)] = [
      ("epochs", stopping.epochs), ("the batch size", optimizer.batchSize), ("memory", optimizer.memory),
      ("iterations without change", stopping.iterationsWithoutChange), ("sync-every", execution.syncEvery),
      ("partitions", execution.partitions),
    ]
    for case (let name, let value?) in counts where value > Self.largestCount {
      throw invalid("\(name) must be at most \(Self.largestCount) (got \(value))")
    }
    for case (let name, let value?) in [
      ("threads", execution.threads), ("--simulate-nodes", execution.simulatedNodes),
    ]
    where value > Self.mostThreads {
      throw invalid("\(name) must be at most \(Self.mostThreads) (got \(value))")
    }
    if let tolerance = stopping.tolerance, !(tolerance.isFinite && tolerance >= 0) {
      throw invalid("the tolerance must be a finite number of 0 or more (got \(tolerance))")
    }
    if let target = stopping.targetLoss, !(target.isFinite && target >= 0) {
      throw invalid("the target loss must be a finite number of 0 or more (got \(target))")
    }
    if problem.loss == .softmax, problem.multiclass == .ovr {
      throw invalid("--loss softmax is itself multiclass; leave out --multiclass ovr")
    }
    if problem.multiclass == .softmax, problem.loss != .logistic, problem.loss != .softmax {
      throw invalid(
        "softmax is multinomial logistic regression; use --multiclass ovr with \(problem.loss.rawValue) loss")
    }
    if problem.multiclass != nil, problem.loss == .squared {
      throw invalid("--multiclass is for classification; squared loss is regression")
    }
    if optimizer.schedule == .optimal, problem.l2Strength <= 0 {
      throw invalid(
        "the optimal schedule η₀/(1 + η₀λt) needs an L2 strength above 0 (one chosen from the data may be 0); set l2 or use another schedule"
      )
    }
    if optimizer.algorithm == .gd || optimizer.algorithm == .lbfgs, execution.strategy != .auto,
      execution.strategy != .sync
    {
      throw invalid(
        "\(optimizer.algorithm == .gd ? "gd is full-batch gradient descent" : "lbfgs takes full gradients"), whose workers combine at barriers: use strategy sync (or auto), not \(execution.strategy.rawValue)"
      )
    }
    if optimizer.algorithm == .lbfgs {
      guard optimizer.memory >= 1 else {
        throw invalid("memory must be at least 1 (got \(optimizer.memory))")
      }
      guard optimizer.warmStartEpochs >= 0 else {
        throw invalid("warm-start epochs must be at least 0 (got \(optimizer.warmStartEpochs))")
      }
      if problem.loss == .hinge {
        throw invalid(
          "L-BFGS needs a smooth loss and hinge has a kink: use logistic, modified-huber or squared, or sgd with hinge"
        )
      }
      if optimizer.schedule != nil || optimizer.learningRate != nil {
        throw invalid("L-BFGS chooses its steps by line search: leave out --schedule and --lr")
      }
    }
    if optimizer.warmStartEpochs != 0, optimizer.algorithm != .lbfgs {
      throw invalid(
        "warm-start epochs give L-BFGS its start; \(optimizer.algorithm == .auto ? "ask for algorithm lbfgs" : optimizer.algorithm.rawValue + " has none")"
      )
    }
    if execution.strategy == .sync, optimizer.algorithm == .sgd {
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
  /// Rows that break a rule training relies on (see `CheckedRows`).
  case invalidData(String)
  /// The loss became infinite or NaN; the last good model is kept.
  case diverged(epoch: Int, learningRate: Float)
  /// The training rows could not be placed on the requested NUMA nodes.
  case placementFailed(String)

  public var description: String {
    switch self {
    case .invalidConfiguration(let message): message
    case .labelsDoNotFitLoss(let message): message
    case .noTrainingRows: "there are no rows to train on"
    case .invalidData(let message): message
    case .placementFailed(let message): message
    case .diverged(let epoch, let rate):
      "training diverged in epoch \(epoch) (the loss is no longer finite) with learning rate \(rate); "
        + "try a learning rate 10× smaller, --standardize, or the optimal schedule with some L2"
    }
  }
}
