import Dataset
import Topology

/// What `auto` picked, and why, in words for the training log.
public struct StrategyChoice: Sendable, Equatable, Codable {
  public var strategy: UpdateStrategy
  public var reason: String

  /// A small cost model in the spirit of DimmWitted's optimizer. Dense rows
  /// update every weight, so a model shared by all cores turns each update
  /// into cache-line ping-pong: give each core its own replica while they fit
  /// the private caches. Sparse rows touch few weights, so collisions are rare
  /// and one shared model per NUMA node is cheapest, except under AdaGrad:
  /// there every step also writes the features' squared-gradient sums, and
  /// replicas merge by adding their changes, which costs no epochs (see
  /// `ReplicaTraining.meet`), so private models win.
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
    if adaptive {
      return StrategyChoice(
        strategy: .perCore,
        reason: "sparse rows (\(percent)% dense) under AdaGrad: a shared model's weights and sums would "
          + "bounce between caches, and replicas that add up their changes need no more epochs")
    }
    if nodes > 1 {
      return StrategyChoice(
        strategy: .perNode,
        reason: "sparse rows (\(percent)% dense) rarely collide; one model per NUMA node keeps writes local")
    }
    return StrategyChoice(
      strategy: .hogwild,
      reason: "sparse rows (\(percent)% dense) rarely collide, so one shared model is cheapest")
  }
}
