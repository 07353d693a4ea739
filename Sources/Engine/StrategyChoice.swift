import Dataset
import Topology

/// What `auto` picked, and why, in words for the training log.
public struct StrategyChoice: Sendable, Equatable, Codable {
  public var strategy: UpdateStrategy
  public var reason: String

  /// A small cost model in the spirit of DimmWitted's optimizer. Dense rows
  /// update every weight, so a model shared by all cores turns each update
  /// into cache-line ping-pong: give each core its own replica while they fit
  /// the private caches. Sparse rows touch few weights, yet on power-law rows
  /// one shared model does not scale either: the hot features' lines bounce
  /// between cores (2 threads ran at 0.41× one thread, in Sounder and in C).
  /// Sparse replicas merge by adding up their changes, capped at twice their
  /// mean (see `ReplicaTraining.meet`): on 2 cores that costs no epochs, on
  /// 16 an epoch is up to 10× faster than one thread's though each gains
  /// less, where a shared model ran slower than one thread. So a replica per
  /// core wins while the replicas stay small; past 1 GiB of them, one model
  /// per NUMA node.
  static func choose(
    requested: UpdateStrategy, algorithm: Algorithm, layout: Layout, columns: Int, outputs: Int,
    density: Double,
    adaptive: Bool, workers: Int, nodes: Int, privateCacheBytes: UInt64
  ) -> StrategyChoice {
    guard requested == .auto else { return StrategyChoice(strategy: requested, reason: "as requested") }
    if algorithm != .sgd {
      return StrategyChoice(
        strategy: .sync, reason: "\(algorithm.rawValue) combines gradients at barriers, which only sync does")
    }
    if workers == 1 {
      return StrategyChoice(strategy: .hogwild, reason: "one worker: a single model with nothing to combine")
    }
    let modelBytes = UInt64(columns + 1) * UInt64(outputs) * 4
    if layout == .dense || density > 0.1 {
      let fits = privateCacheBytes == 0 || modelBytes * 2 <= privateCacheBytes
      if fits {
        return StrategyChoice(
          strategy: .perCore,
          reason:
            "every update writes all \(columns * outputs) weights; a shared model would bounce between caches, "
            + "and a \(modelBytes)-byte replica per core fits its private cache")
      }
      return nodes > 1
        ? StrategyChoice(
          strategy: .perNode,
          reason: "dense updates, but a \(modelBytes)-byte model is too big to copy per core")
        : StrategyChoice(
          strategy: .hogwild,
          reason: "dense updates, but a \(modelBytes)-byte model is too big to copy per core")
    }
    let percent = String(Int((density * 100).rounded(.up)))
    let replicaBytes = modelBytes * UInt64(adaptive ? 2 : 1)
    if replicaBytes * UInt64(workers) <= 1 << 30 {
      return StrategyChoice(
        strategy: .perCore,
        reason:
          "sparse rows (\(percent)% dense): a shared model's hot weights\(adaptive ? " and sums" : "") would "
          + "bounce between caches; replicas that add up their changes scale "
          + "(\(workers) × \(replicaBytes) bytes)")
    }
    if nodes > 1 {
      return StrategyChoice(
        strategy: .perNode,
        reason: "sparse rows (\(percent)% dense), a model too big to copy per core: one per NUMA node")
    }
    return StrategyChoice(
      strategy: .hogwild,
      reason: "sparse rows (\(percent)% dense), a model too big to copy per core: one shared model")
  }
}
