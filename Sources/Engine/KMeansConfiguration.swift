import Learning
import Parallel
import Topology

/// How k-means picks its first centres.
public enum KMeansInitialization: String, Sendable, Codable, CaseIterable {
  /// k-means++ (Arthur and Vassilvitskii, 2007), greedy as scikit-learn's:
  /// each centre is the best of `2 + ⌊ln k⌋` rows drawn with probability
  /// proportional to their weighted squared distance from the centres so far.
  case kMeansPlusPlus = "k-means++"
  /// k-means‖ (Bahmani et al., 2012): five rounds that each keep every
  /// row with probability `2k ρ D² / Σ ρ D²`, about 2k rows a round, all
  /// sampled in one pass over the rows; the candidates, weighed by the rows
  /// nearest to them, are then clustered into k by k-means++. Ten passes
  /// instead of k-means++'s 2k: the start for large k.
  case kMeansParallel = "k-means-parallel"
  /// k distinct rows drawn uniformly.
  case random
}

/// How k-means iterates.
public enum KMeansAlgorithm: String, Sendable, Codable, CaseIterable {
  /// Lloyd's iteration: assign every row to its nearest centre, move every
  /// centre to the mean of its rows.
  case lloyd
  /// Lloyd's iteration with Hamerly's distance bounds (2010): a row whose
  /// bounds show its centre is still the nearest skips its distances. The
  /// same assignments and centres as ``lloyd``.
  case bounded
  /// Mini-batch k-means (Sculley, 2010): each step assigns a batch of rows
  /// and moves each centre to the running mean of every row it has been
  /// given; an iteration is an epoch over the rows. Much less work per
  /// epoch than Lloyd's iteration for an inertia a little above it.
  case minibatch
}

/// Everything that decides a k-means fit: the problem (k, standardisation),
/// the start (initialisation, runs, seed), the iteration (algorithm, when to
/// stop) and, as for training, how the work is spread over the machine.
public struct KMeansConfiguration: Sendable, Equatable {
  /// k, the number of centres.
  public var clusters: Int
  public var initialization: KMeansInitialization = .kMeansPlusPlus
  /// Fits from different starting centres; the one of least inertia wins.
  public var runs: Int = 1
  public var algorithm: KMeansAlgorithm = .lloyd
  /// Iterations per run, at most (mini-batch: epochs).
  public var maxIterations: Int = 300
  /// Mini-batch: rows per step, over all workers.
  public var batchSize: Int = 1024
  /// A run stops when the centres move less than this in total, as a share
  /// of the mean feature variance: `Σ_c ‖c′ − c‖² ≤ tolerance · mean_j Var(x_j)`
  /// (scikit-learn's rule), or when no row changes cluster.
  public var tolerance: Double = 1e-4
  /// Standardise the features before clustering (dense: mean 0 and
  /// variance 1; sparse: scaled only). The model keeps the scaler.
  public var standardize = false
  /// Threads, placement, seed and, for mini-batch, the strategy (`sync`,
  /// `per-core`, `hogwild` or `auto`), as for training; the sync interval plays no part.
  public var execution = TrainingConfiguration.Execution()

  /// A configuration for `clusters` centres, the rest at their defaults.
  public init(clusters: Int) {
    self.clusters = clusters
  }

  /// Checks every value, so that a fit never starts with one that cannot work.
  public func validate() throws(TrainingError) {
    func invalid(_ message: String) -> TrainingError { .invalidConfiguration(message) }
    guard clusters >= 1 else { throw invalid("k must be at least 1 (got \(clusters))") }
    guard runs >= 1 else { throw invalid("--n-init must be at least 1 (got \(runs))") }
    guard maxIterations >= 1 else { throw invalid("--max-iter must be at least 1 (got \(maxIterations))") }
    guard batchSize >= 1 else { throw invalid("--batch-size must be at least 1 (got \(batchSize))") }
    guard tolerance.isFinite, tolerance >= 0 else {
      throw invalid("the tolerance must be a finite number of at least 0 (got \(tolerance))")
    }
    let limit = TrainingConfiguration.largestCount
    for (name, value) in [
      ("k", clusters), ("--n-init", runs), ("--max-iter", maxIterations), ("--batch-size", batchSize),
    ]
    where value > limit {
      throw invalid("\(name) must be at most \(limit) (got \(value))")
    }
    switch (algorithm, execution.strategy) {
    case (_, .auto), (_, .sync), (.minibatch, .perCore), (.minibatch, .hogwild): break
    case (.minibatch, let strategy):
      throw invalid(
        "mini-batch k-means takes --strategy sync, per-core, hogwild or auto (got \(strategy.rawValue))")
    case (let algorithm, let strategy):
      throw invalid(
        "--strategy \(strategy.rawValue) is for --algorithm minibatch; \(algorithm.rawValue) combines at a barrier (sync)"
      )
    }
    if let threads = execution.threads, !(1...TrainingConfiguration.mostThreads).contains(threads) {
      throw invalid("threads must be from 1 to \(TrainingConfiguration.mostThreads) (got \(threads))")
    }
  }
}

extension KMeansConfiguration: Codable {
  private enum CodingKeys: String, CodingKey, CaseIterable {
    case clusters, initialization, runs, algorithm, maxIterations, batchSize, tolerance, standardize, threads,
      seed, strategy
  }

  /// The name of every setting in the encoding (the JSON keys).
  public static var settingNames: [String] { CodingKeys.allCases.map(\.stringValue) }

  /// Reads the encoding; every setting but `clusters` may be left out and
  /// keeps its default.
  public init(from decoder: any Decoder) throws {
    let values = try decoder.container(keyedBy: CodingKeys.self)
    self.init(clusters: try values.decode(Int.self, forKey: .clusters))
    func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
      if let found = try values.decodeIfPresent(T.self, forKey: key) { value = found }
    }
    try read(.initialization, &initialization)
    try read(.runs, &runs)
    try read(.algorithm, &algorithm)
    try read(.maxIterations, &maxIterations)
    try read(.batchSize, &batchSize)
    try read(.tolerance, &tolerance)
    try read(.standardize, &standardize)
    execution.threads = try values.decodeIfPresent(Int.self, forKey: .threads)
    try read(.seed, &execution.seed)
    try read(.strategy, &execution.strategy)
  }

  public func encode(to encoder: any Encoder) throws {
    var values = encoder.container(keyedBy: CodingKeys.self)
    try values.encode(clusters, forKey: .clusters)
    try values.encode(initialization, forKey: .initialization)
    try values.encode(runs, forKey: .runs)
    try values.encode(algorithm, forKey: .algorithm)
    try values.encode(maxIterations, forKey: .maxIterations)
    try values.encode(batchSize, forKey: .batchSize)
    try values.encode(tolerance, forKey: .tolerance)
    try values.encode(standardize, forKey: .standardize)
    try values.encodeIfPresent(execution.threads, forKey: .threads)
    try values.encode(execution.seed, forKey: .seed)
    try values.encode(execution.strategy, forKey: .strategy)
  }
}
