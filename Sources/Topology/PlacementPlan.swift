/// How workers are laid out over a machine, named after OpenMP's
/// `proc_bind(close)` and `proc_bind(spread)`.
public enum PlacementPolicy: String, Sendable, Codable, CaseIterable {
  /// Fill the first NUMA node's cores, then the next node's: workers share
  /// caches and memory, and other nodes stay free.
  case close
  /// Spread workers evenly over NUMA nodes (alternating packages) and, within
  /// a node, evenly over its cores: the most memory bandwidth and cache.
  case spread
}

/// Why a placement plan cannot be made.
public enum PlacementError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Fewer than one worker was asked for.
  case noWorkers(requested: Int)
  /// More workers than processing units: two would share one hardware thread.
  case moreWorkersThanProcessingUnits(requested: Int, available: Int)

  public var description: String {
    switch self {
    case .noWorkers(let requested):
      return "the worker count must be at least 1 (got \(requested))"
    case .moreWorkersThanProcessingUnits(let requested, let available):
      return
        "\(requested) workers is more than the \(available) processing units of the machine; "
        + "use at most \(available)"
    }
  }
}

/// Where one worker thread runs.
public struct WorkerPlacement: Sendable, Equatable, Codable {
  /// The worker's number, 0 ..< worker count.
  public var worker: Int
  /// The processing unit it is pinned to (a logical index into
  /// ``Topology/processingUnits``).
  public var processingUnit: Int
  /// The kernel's number for that CPU.
  public var cpu: Int
  /// Its core, NUMA node and package (logical indices).
  public var core: Int
  public var node: Int
  public var package: Int
}

/// Which processing unit each worker is pinned to.
///
/// Plans are deterministic: the same topology, worker count and policy give
/// the same plan. Workers take one processing unit per core on every core of
/// the machine before any core gets a second worker on a sibling hardware
/// thread, and no two workers ever share a processing unit.
public struct PlacementPlan: Sendable, Equatable, Codable {
  public let policy: PlacementPolicy
  /// One entry per worker, in worker order.
  public let workers: [WorkerPlacement]

  /// Plans `workerCount` workers (default: one per core of the nodes used)
  /// on `topology`, on all its NUMA nodes or only on `nodes` (logical indices).
  public init(
    topology: Topology, workers workerCount: Int? = nil, policy: PlacementPolicy = .spread,
    nodes: [Int]? = nil
  ) throws(PlacementError) {
    let allowed = nodes.map(Set.init)
    let usable = topology.cores.filter { allowed?.contains($0.node) ?? true }
    let capacity = usable.reduce(0) { $0 + $1.processingUnits.count }
    let count = workerCount ?? usable.count
    guard count >= 1 else { throw .noWorkers(requested: count) }
    guard count <= capacity else {
      throw .moreWorkersThanProcessingUnits(requested: count, available: capacity)
    }
    self.policy = policy
    let units = Self.choose(count, on: topology, policy: policy, nodes: allowed)
    workers = units.enumerated().map { worker, unit in
      let pu = topology.processingUnits[unit]
      return WorkerPlacement(
        worker: worker, processingUnit: unit, cpu: pu.osIndex, core: pu.core, node: pu.node,
        package: pu.package)
    }
  }

  /// Workers per NUMA node, indexed by node.
  public func workersPerNode(nodeCount: Int) -> [Int] {
    var counts = Array(repeating: 0, count: nodeCount)
    for worker in workers where counts.indices.contains(worker.node) { counts[worker.node] += 1 }
    return counts
  }

  /// Round `r` offers the `r`-th hardware thread of every core; rounds are
  /// used up in order, so siblings are taken only once every core has one.
  private static func choose(
    _ count: Int, on topology: Topology, policy: PlacementPolicy, nodes allowed: Set<Int>?
  ) -> [Int] {
    // Cores grouped by node, nodes in the order the policy visits them; nodes
    // left out keep their place in the order with no cores to offer.
    var coresByNode = topology.nodes.map { allowed?.contains($0.index) ?? true ? $0.cores : [] }
    let homeless = topology.cores.filter { core in
      allowed == nil && !coresByNode.contains { $0.contains(core.index) }
    }
    if !homeless.isEmpty { coresByNode.append(homeless.map(\.index)) }
    let nodeOrder =
      policy == .spread
      ? packageInterleaved(topology, groups: coresByNode.count) : Array(coresByNode.indices)
    let rounds = topology.cores.map(\.processingUnits.count).max() ?? 0

    var chosen: [Int] = []
    var round = 0
    while chosen.count < count, round < rounds {
      // Per node, the processing units this round offers, in core order.
      let offers = coresByNode.map { cores in
        cores.compactMap { core -> Int? in
          let units = topology.cores[core].processingUnits
          return round < units.count ? units[round] : nil
        }
      }
      let remaining = count - chosen.count
      switch policy {
      case .close:
        chosen += nodeOrder.flatMap { offers[$0] }.prefix(remaining)
      case .spread:
        chosen += spread(remaining, over: nodeOrder.map { offers[$0] })
      }
      round += 1
    }
    return chosen
  }

  /// Deals up to `count` workers round-robin over the nodes (skipping full
  /// ones), picks evenly spaced units inside each node, and returns them in
  /// dealing order so that the first workers are already spread out.
  private static func spread(_ count: Int, over offers: [[Int]]) -> [Int] {
    var perNode = Array(repeating: 0, count: offers.count)
    var dealt = 0
    while dealt < count, perNode.indices.contains(where: { perNode[$0] < offers[$0].count }) {
      for node in offers.indices where dealt < count && perNode[node] < offers[node].count {
        perNode[node] += 1
        dealt += 1
      }
    }
    let picks = offers.indices.map { node in
      let available = offers[node].count
      let wanted = perNode[node]
      return (0..<wanted).map { offers[node][$0 * available / wanted] }
    }
    var ordered: [Int] = []
    for position in 0..<(perNode.max() ?? 0) {
      for node in picks.indices where position < picks[node].count {
        ordered.append(picks[node][position])
      }
    }
    return ordered
  }

  /// Node indices taking one node from each package in turn: with two
  /// packages of two nodes, 0, 2, 1, 3.
  private static func packageInterleaved(_ topology: Topology, groups: Int) -> [Int] {
    let byPackage = topology.packages.map(\.nodes).filter { !$0.isEmpty }
    var order: [Int] = []
    for position in 0..<(byPackage.map(\.count).max() ?? 0) {
      for nodes in byPackage where position < nodes.count { order.append(nodes[position]) }
    }
    let missing = (0..<groups).filter { !order.contains($0) }
    return order + missing
  }
}
