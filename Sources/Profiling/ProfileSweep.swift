import Dataset
import Engine
import Parallel
import Topology

/// A sweep over thread counts, strategies, data placements and data
/// replication, each combination trained for a fixed number of epochs or to
/// a target loss: what `sounder profile` runs. It measures what DimmWitted
/// (Zhang and Ré, 2014) showed matters: hardware efficiency (time per epoch,
/// against the memory-bandwidth floor) and statistical efficiency (epochs to
/// a loss), for each choice, on this machine.
///
/// ```swift
/// var sweep = ProfileSweep(base: configuration)
/// sweep.threads = [1, 2]
/// sweep.strategies = [.hogwild, .perCore]
/// let report = try sweep.run(on: dataset.rows) { run in print(run.label) }
/// ```
public struct ProfileSweep: Sendable {
  /// Everything but the swept settings (loss, learning rate, seed, ...).
  public var base: TrainingConfiguration
  public var threads: [Int] = [1]
  public var strategies: [UpdateStrategy] = [.hogwild]
  public var placements: [DataPlacement] = [.asLoaded]
  public var replications: [DataReplication] = [.shard]
  /// Epochs per run, or the limit when a target loss is set.
  public var epochs: Int = 5
  /// Stop each run when its training loss reaches this.
  public var targetLoss: Double?
  /// Simulated NUMA nodes (see ``TrainingConfiguration/simulatedNodes``).
  public var simulatedNodes: Int?
  /// Bytes each bandwidth probe streams.
  public var probeBytes: Int = 256 << 20
  /// When set, the runs are k-means fits of this configuration (threads,
  /// placement and algorithm swept; ``epochs`` is the iteration limit and
  /// ``targetLoss`` a target inertia) instead of training runs.
  public var clustering: KMeansConfiguration?
  /// The k-means algorithms swept when ``clustering`` is set (in place of
  /// the strategies).
  public var kMeansAlgorithms: [KMeansAlgorithm] = [.lloyd]

  public init(base: TrainingConfiguration) { self.base = base }

  /// Every combination, in the order they run: threads innermost, so each
  /// strategy's speed-up over 1 thread is known as soon as it is measured.
  public var combinations: [ProfileCombination] {
    if clustering != nil {
      return placements.flatMap { placement in
        kMeansAlgorithms.flatMap { algorithm in
          threads.map {
            ProfileCombination(
              threads: $0, strategy: .auto, placement: placement, replication: .shard,
              kMeansAlgorithm: algorithm)
          }
        }
      }
    }
    return replications.flatMap { replication in
      placements.flatMap { placement in
        strategies.flatMap { strategy in
          threads.map {
            ProfileCombination(
              threads: $0, strategy: strategy, placement: placement, replication: replication)
          }
        }
      }
    }
  }

  /// Checks the sweep against `machine` before anything runs.
  public func validate(on machine: Topology) throws(ProfileError) {
    guard !threads.isEmpty, !strategies.isEmpty, !placements.isEmpty, !replications.isEmpty else {
      throw .invalid("every swept list needs at least one value")
    }
    let units = machine.processingUnits.count
    for count in threads where count < 1 || count > units {
      throw .invalid(
        "--threads \(count) is not possible here: this machine has \(units) processing units (use 1 to \(units))"
      )
    }
    guard epochs >= 1 else { throw .invalid("--epochs must be at least 1 (got \(epochs))") }
    var nodes = TrainingConfiguration()
    nodes.execution.simulatedNodes = simulatedNodes
    do { try nodes.validate(on: machine) } catch { throw .invalid(error.description) }
    if clustering != nil {
      guard !kMeansAlgorithms.isEmpty else { throw .invalid("every swept list needs at least one value") }
      for combination in combinations {
        do { try clusterConfiguration(for: combination).validate() } catch {
          throw .invalid("\(combination.label): \(error)")
        }
      }
      return
    }
    for combination in combinations {
      var setup = configuration(for: combination)
      setup.stopping.epochs = epochs
      do { try setup.validate() } catch { throw .invalid("\(combination.label): \(error)") }
    }
  }

  /// The k-means configuration of one combination (``clustering`` must be set).
  public func clusterConfiguration(for combination: ProfileCombination) -> KMeansConfiguration {
    var setup = clustering!
    setup.execution.threads = combination.threads
    setup.execution.dataPlacement = combination.placement
    setup.execution.simulatedNodes = simulatedNodes
    setup.algorithm = combination.kMeansAlgorithm ?? setup.algorithm
    setup.maxIterations = epochs
    return setup
  }

  /// The training configuration of one combination.
  public func configuration(for combination: ProfileCombination) -> TrainingConfiguration {
    var setup = base
    setup.execution.threads = combination.threads
    setup.execution.strategy = combination.strategy
    // A sweep compares the strategies of SGD: auto (which could pick L-BFGS
    // for some combinations and not others) profiles as SGD, and sync, which
    // combines whole batches at barriers, as minibatch SGD.
    if setup.optimizer.algorithm == .auto { setup.optimizer.algorithm = .sgd }
    if combination.strategy == .sync, setup.optimizer.algorithm == .sgd {
      setup.optimizer.algorithm = .minibatch
    }
    setup.execution.dataPlacement = combination.placement
    setup.execution.dataReplication = combination.replication
    setup.execution.simulatedNodes = simulatedNodes
    setup.stopping.epochs = epochs
    setup.stopping.targetLoss = targetLoss
    return setup
  }

  /// Measures the bandwidth floor for each thread count, then trains (or
  /// clusters) every combination on `rows`, calling `finished` after each
  /// run and `epochDone` with each epoch's (or iteration's) number, for a
  /// progress display.
  public func run(
    on rows: CheckedRows, machine: Topology, finished: (ProfileRun) -> Void = { _ in },
    epochDone: (ProfileCombination, Int) -> Void = { _, _ in }
  ) throws -> ProfileReport {
    try validate(on: machine)
    let probe = BandwidthProbe(topology: machine, bytes: probeBytes, repetitions: 3)
    var bandwidth: [Int: Double] = [:]
    for count in Set(threads).sorted() {
      bandwidth[count] = try probe.measure(.read, threads: count).gigabytesPerSecond
    }
    let hardware = HardwareCounters()
    var runs: [ProfileRun] = []
    for combination in combinations {
      var run: ProfileRun
      if clustering != nil {
        let setup = clusterConfiguration(for: combination)
        let (result, counts) = try hardware.measure {
          try KMeans(setup, topology: machine).fit(rows, progress: { epochDone(combination, $0.iteration) })
        }
        run = ProfileRun(
          combination: combination, result: result, rows: rows.block,
          bandwidth: bandwidth[combination.threads]!,
          targetInertia: targetLoss, hardware: counts)
      } else {
        let setup = configuration(for: combination)
        let (result, counts) = try hardware.measure {
          try Trainer(setup, topology: machine).fit(rows, progress: { epochDone(combination, $0.epoch) })
        }
        run = ProfileRun(
          combination: combination, algorithm: setup.optimizer.algorithm, result: result,
          bandwidth: bandwidth[combination.threads]!,
          targetLoss: targetLoss, hardware: counts)
      }
      if let single = runs.first(where: { $0.combination == combination.withThreads(1) }) {
        run.speedup = run.examplesPerSecond / single.examplesPerSecond
        run.efficiency = run.speedup.map { $0 / Double(combination.threads) }
      } else if combination.threads == 1 {
        (run.speedup, run.efficiency) = (1, 1)
      }
      runs.append(run)
      finished(run)
    }
    return ProfileReport(
      machine: machine.summary, simulatedNodes: simulatedNodes, rows: rows.block.count,
      columns: rows.block.columns,
      layout: rows.block.layout == .dense ? "dense" : "sparse",
      loss: clustering == nil ? base.problem.loss.rawValue : ProfileReport.kMeans,
      algorithm: clustering.map { "k = \($0.clusters), \($0.initialization.rawValue) start" }
        ?? base.optimizer.algorithm.rawValue, epochs: epochs, targetLoss: targetLoss,
      readBandwidth: bandwidth.keys.sorted().map {
        ProfileReport.Bandwidth(threads: $0, gigabytesPerSecond: bandwidth[$0]!)
      },
      hardwareCounters: hardware.unavailable ?? "available", runs: runs)
  }
}

/// One point of a sweep.
public struct ProfileCombination: Sendable, Equatable, Hashable, Codable {
  public var threads: Int
  public var strategy: UpdateStrategy
  public var placement: DataPlacement
  public var replication: DataReplication
  /// For a k-means run, its algorithm (the strategy plays no part).
  public var kMeansAlgorithm: KMeansAlgorithm?

  public init(
    threads: Int, strategy: UpdateStrategy, placement: DataPlacement, replication: DataReplication,
    kMeansAlgorithm: KMeansAlgorithm? = nil
  ) {
    self.threads = threads
    self.strategy = strategy
    self.placement = placement
    self.replication = replication
    self.kMeansAlgorithm = kMeansAlgorithm
  }

  /// "per-core, 2 threads, local, shard", or for k-means "bounded, 2 threads, local".
  public var label: String {
    let threads = "\(threads) thread\(self.threads == 1 ? "" : "s")"
    if let kMeansAlgorithm { return "\(kMeansAlgorithm.rawValue), \(threads), \(placement.rawValue)" }
    return "\(strategy.rawValue), \(threads), \(placement.rawValue), \(replication.rawValue)"
  }

  /// The series this point belongs to in charts: all but the thread count.
  public var series: String {
    if let kMeansAlgorithm { return "\(kMeansAlgorithm.rawValue) \(placement.rawValue)" }
    return "\(strategy.rawValue) \(placement.rawValue) \(replication.rawValue)"
  }

  func withThreads(_ count: Int) -> ProfileCombination {
    var copy = self
    copy.threads = count
    return copy
  }
}

/// Why a sweep cannot run.
public enum ProfileError: Error, Equatable, Sendable, CustomStringConvertible {
  case invalid(String)

  public var description: String {
    switch self {
    case .invalid(let message): message
    }
  }
}
