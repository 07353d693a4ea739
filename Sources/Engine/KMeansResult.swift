import Learning

/// One k-means iteration: the assignment to the centres the iteration
/// started from, and how far the update moved them.
public struct KMeansReport: Sendable, Equatable, Codable {
  /// The run (from 1; see ``KMeansConfiguration/runs``).
  public var run: Int
  /// The iteration within the run (from 1).
  public var iteration: Int
  /// `Σ ρᵢ ‖xᵢ − c(xᵢ)‖²` of the centres the iteration started from, each
  /// row with its nearest centre.
  public var inertia: Double
  /// `Σ_c ‖c′ − c‖²`: how far the update moved the centres.
  public var shift: Double
  /// Rows whose nearest centre changed.
  public var changed: Int
  /// Distance computations made, as a share of rows × k (1 for Lloyd's
  /// iteration; less when bounds let rows skip them).
  public var distanceShare: Double
  /// Empty clusters given a new centre in this iteration.
  public var reseeded: Int
  /// Seconds the iteration took.
  public var seconds: Double
}

/// Why a k-means run ended.
public enum KMeansStop: Sendable, Equatable, Codable, CustomStringConvertible {
  /// No row changed cluster: the centres are a fixed point.
  case stable(iteration: Int)
  /// The centres moved less than the tolerance.
  case converged(iteration: Int)
  /// The iteration limit was reached.
  case iterationLimit
  /// The caller asked the fit to stop (``StopRequest``) after this iteration.
  case requested(iteration: Int)

  public var description: String {
    switch self {
    case .stable(let iteration): "no row changed cluster in iteration \(iteration)"
    case .converged(let iteration): "the centres moved less than the tolerance in iteration \(iteration)"
    case .iterationLimit: "reached the iteration limit"
    case .requested(let iteration): "stopped after iteration \(iteration), as the caller asked"
    }
  }
}

/// The outcome of ``KMeans/fit(_:counters:progress:)``.
public struct KMeansResult: Sendable {
  /// The centres of the best run (of least inertia).
  public var model: ClusterModel
  /// The best run's inertia with its final centres, `Σ ρᵢ ‖xᵢ − c(xᵢ)‖²`.
  public var inertia: Double
  /// Each run's final inertia, in run order.
  public var runInertias: [Double]
  /// The best run's number (from 1).
  public var bestRun: Int
  /// Why the best run ended.
  public var stopReason: KMeansStop
  /// Every iteration of every run, in order.
  public var history: [KMeansReport]
  /// How the workers combined their work, and why (mini-batch: `sync` or
  /// `per-core` replicas; Lloyd's iteration: `sync`).
  public var strategy: StrategyChoice
  /// Seconds spent choosing the starting centres, over all runs.
  public var initializationSeconds: Double
  /// Rows clustered, and their total weight.
  public var rows: Int
  public var totalWeight: Double
  /// Rows this process assigned: all of them in one process, its share across processes.
  public var assignedRows: Int
  /// Workers, and where they ran.
  public var placement: [Int]
  /// What each worker did.
  public var workers: [WorkerStats]

  /// The best run's iterations.
  public var iterations: Int { history.filter { $0.run == bestRun }.count }
}
