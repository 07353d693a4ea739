import Dataset
import Topology

/// Where a training run puts the pages of the training rows.
public enum DataPlacement: String, Sendable, Codable, CaseIterable {
  /// Wherever they are (first touch, or the page cache's choice).
  case asLoaded = "as-loaded"
  /// Each worker's partitions on its worker's NUMA node.
  case local
  /// Partitions spread round-robin over all nodes, regardless of workers.
  case interleave
  /// All on the first worker's node.
  case singleNode = "single-node"
}

/// How the training rows are shared among NUMA nodes (DimmWitted's data
/// replication choice).
public enum DataReplication: String, Sendable, Codable, CaseIterable {
  /// Each row belongs to one worker: an epoch visits every row once.
  case shard
  /// Each node holds a copy of all rows in its own memory and its workers
  /// share them out: an epoch visits every row once per node.
  case full
}

/// Why rows could not be partitioned or placed.
public enum DataLayoutError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The partition count does not fit the rows.
  case invalidPartitioning(String)
  /// Pages could not be bound, or rows copied, to a NUMA node.
  case placementFailed(String)

  public var description: String {
    switch self {
    case .invalidPartitioning(let message), .placementFailed(let message): message
    }
  }
}

/// A contiguous range of rows, one worker's share.
public struct Partition: Sendable, Equatable {
  /// Position among the partitions, from 0.
  public let index: Int
  /// The rows it holds.
  public let rows: Range<Int>
  /// The values stored for those rows.
  public let nonZeros: Int

  /// A partition.
  public init(index: Int, rows: Range<Int>, nonZeros: Int) {
    self.index = index
    self.rows = rows
    self.nonZeros = nonZeros
  }
}

/// Memory of a worker's partition, and the (logical) node it was placed on.
public struct PlacedMemory: @unchecked Sendable {
  /// The bytes.
  public let range: UnsafeRawBufferPointer
  /// The node they were meant for (`nil`: left where they were).
  public let logicalNode: Int?
}

/// What one worker is given: the rows it trains on, where they are, and the
/// node it runs on. The one answer to "which rows, from which memory, on
/// which node" for every algorithm.
public struct WorkerAssignment: @unchecked Sendable {
  /// Its rows (its partitions, concatenated), ascending within each partition.
  public internal(set) var rows: [Int32]
  /// The block its rows are read from (a node's copy under full replication).
  public internal(set) var block: RowBlock
  /// Its (logical) NUMA node: a pseudo-node when nodes are simulated.
  public let node: Int
  /// The kernel's number of the node its memory is requested on.
  public let memoryNode: Int
  /// The memory its partitions occupy, with the node each piece was meant for.
  public internal(set) var placed: [PlacedMemory]
}

/// The placement layer: rows split into partitions balanced by stored
/// values, dealt to workers, their pages bound to NUMA nodes or copied into
/// node-local memory, and how much of each worker's data ended up local.
public struct DataLayout: @unchecked Sendable {
  /// One per worker, in worker order.
  public let assignments: [WorkerAssignment]
  /// Node-local copies under full replication, kept alive with the layout.
  let copies: [NodeLocalRows]
  /// Whether nodes are simulated (page shares then come from the placement).
  let simulated: Bool
  /// Whether the machine has one memory node, where every resident page is
  /// local and asking the kernel where each one is would cost a system call
  /// over every page of the rows (10–14 ms a fit over a 500 MB file).
  let oneMemoryNode: Bool

  /// Lays `rows` (ascending row numbers of `block`) out over `plan`'s workers:
  /// `partitions` contiguous runs balanced by stored values, partition `p`
  /// to worker `p mod workers`, pages placed by `placement`; or, under
  /// `.full` replication on several nodes, a copy of the rows per node,
  /// shared out among its workers. `simulating` K nodes splits a one-node
  /// machine's cores into K pseudo-nodes.
  public init(
    rows: [Int32], of block: RowBlock, plan: PlacementPlan, on machine: Topology, partitions: Int? = nil,
    placement: DataPlacement = .asLoaded, replication: DataReplication = .shard, simulating: Int? = nil
  ) throws(DataLayoutError) {
    let nodeOf = Self.nodes(of: plan, on: machine, simulating: simulating)
    let memoryNodeOf = plan.workers.map { machine.nodes[$0.node].osIndex }
    let workers = plan.workers.count
    let count = partitions ?? workers
    guard count >= 1, count <= rows.count else {
      throw .invalidPartitioning(
        "\(count) partitions for \(rows.count) rows: use from 1 to \(rows.count)")
    }
    simulated = simulating != nil
    oneMemoryNode = Set(machine.nodes.map(\.osIndex)).count <= 1
    if replication == .full, Set(nodeOf).count > 1 {
      (assignments, copies) = try Self.replicate(rows, of: block, nodeOf: nodeOf, memoryNodeOf: memoryNodeOf)
      return
    }
    let parts = Self.split(rows, of: block, into: count)
    let placed = try Self.place(parts, of: block, placement, nodeOf: nodeOf, memoryNodeOf: memoryNodeOf)
    assignments = (0..<workers).map { worker in
      WorkerAssignment(
        rows: stride(from: worker, to: count, by: workers).flatMap { parts[$0] }, block: block,
        node: nodeOf[worker], memoryNode: memoryNodeOf[worker], placed: placed[worker])
    }
    copies = []
  }

  /// How much of worker `worker`'s partitions' memory is on its node: on a
  /// real machine, the kernel's account of the resident pages; on simulated
  /// nodes, where every page is on the one real node, the share of bytes
  /// placed on the worker's pseudo-node. `nil`: the kernel cannot say.
  public func localShare(of worker: Int) -> Double? {
    let assignment = assignments[worker]
    var local = 0
    var total = 0
    if simulated {
      for placed in assignment.placed {
        guard let node = placed.logicalNode else { return nil }
        if node == assignment.node { local += placed.range.count }
        total += placed.range.count
      }
    } else {
      guard NUMAMemory.isAvailable else { return nil }
      if oneMemoryNode { return assignment.placed.isEmpty ? nil : 1 }
      for placed in assignment.placed {
        guard let pages = try? NUMAMemory.nodes(ofPagesIn: placed.range).compactMap({ $0 }) else {
          return nil
        }
        local += pages.count { $0 == assignment.memoryNode }
        total += pages.count
      }
    }
    return total == 0 ? nil : Double(local) / Double(total)
  }

  /// Splits `rows` (ascending row numbers of `block`) into `count`
  /// contiguous runs holding about the same number of stored values (dense
  /// rows: the same number of rows), none empty when there are enough rows.
  public static func split(_ rows: [Int32], of block: RowBlock, into count: Int) -> [ArraySlice<Int32>] {
    // A row's weight: its stored values and one (every dense row weighs alike).
    func size(_ index: Int) -> Int {
      let row = Int(rows[index])
      return block.layout == .dense ? 1 : Int(block.offsets[row + 1] - block.offsets[row]) + 1
    }
    let total = block.layout == .dense ? rows.count : rows.indices.reduce(0) { $0 + size($1) }
    var bounds = [0]
    var accumulated = 0
    var index = 0
    for part in 1..<max(count, 1) {
      let target = total * part / count
      if block.layout == .dense {
        // What the walk below gives for rows of one weight, without walking.
        index = max(min(target, rows.count - (count - part)), bounds.last! + 1)
        bounds.append(index)
        continue
      }
      while index < rows.count - (count - part),
        accumulated + size(index) <= target || index < bounds.last! + 1
      {
        accumulated += size(index)
        index += 1
      }
      bounds.append(index)
    }
    bounds.append(rows.count)
    return (0..<count).map { rows[bounds[$0]..<bounds[$0 + 1]] }
  }

  /// All of `block`'s rows in `count` contiguous partitions (see
  /// ``split(_:of:into:)``).
  public static func partitions(of block: RowBlock, count: Int) throws(DataLayoutError) -> [Partition] {
    guard count >= 1, count <= block.count else {
      throw .invalidPartitioning(
        "\(count) partitions for \(block.count) rows: use from 1 to \(block.count)")
    }
    return split((0..<block.count).map(Int32.init), of: block, into: count).enumerated().map { index, part in
      let range = Int(part.first!)..<Int(part.last!) + 1
      let nonZeros =
        block.layout == .dense
        ? range.count * block.columns : Int(block.offsets[range.upperBound] - block.offsets[range.lowerBound])
      return Partition(index: index, rows: range, nonZeros: nonZeros)
    }
  }

  /// Binds the pages of `block`'s rows `rows` to NUMA node `node` (the
  /// kernel's number), moving pages already in memory; pages read later are
  /// placed there too. Pages shared with neighbouring rows at the edges go
  /// to whichever rows are bound last.
  public static func bind(rows: Range<Int>, of block: RowBlock, toNode node: Int) throws(DataLayoutError) {
    guard NUMAMemory.isAvailable else {
      throw .placementFailed("binding rows to NUMA node \(node) needs NUMA support, which this kernel lacks")
    }
    for range in block.slice(rows).memoryRanges {
      do { try NUMAMemory.bind(range, toNode: node) } catch {
        throw .placementFailed("cannot place rows \(rows) on node \(node): \(error)")
      }
    }
  }

  /// Each worker's NUMA node: the real one, or with `simulating` K nodes,
  /// the pseudo-node its core falls in when the machine's cores are split
  /// into K equal runs in core order.
  static func nodes(of plan: PlacementPlan, on machine: Topology, simulating: Int?) -> [Int] {
    guard let simulating else { return plan.workers.map(\.node) }
    let cores = max(machine.cores.count, 1)
    return plan.workers.map { min($0.core * simulating / cores, simulating - 1) }
  }

  /// Full replication: a copy of the rows in each node's memory, shared out
  /// among that node's workers.
  static func replicate(
    _ rows: [Int32], of block: RowBlock, nodeOf: [Int], memoryNodeOf: [Int]
  ) throws(DataLayoutError) -> (assignments: [WorkerAssignment], copies: [NodeLocalRows]) {
    var assignments = nodeOf.indices.map {
      WorkerAssignment(rows: [], block: block, node: nodeOf[$0], memoryNode: memoryNodeOf[$0], placed: [])
    }
    var copies: [NodeLocalRows] = []
    for node in Array(Set(nodeOf)).sorted() {
      let members = nodeOf.indices.filter { nodeOf[$0] == node }
      let copy = try NodeLocalRows(copying: block, onNode: memoryNodeOf[members[0]])
      copies.append(copy)
      for (worker, part) in zip(members, split(rows, of: block, into: members.count)) {
        assignments[worker].rows = Array(part)
        assignments[worker].block = copy.rows
        guard let first = part.first, let last = part.last else { continue }
        assignments[worker].placed = copy.rows.slice(Int(first)..<Int(last) + 1).memoryRanges.map {
          PlacedMemory(range: $0, logicalNode: node)
        }
      }
    }
    return (assignments, copies)
  }

  /// Puts each partition's pages where `placement` says (partition p
  /// belongs to worker p mod workers) and returns, per worker, the memory
  /// of its partitions (from each one's first row to its last) with the
  /// logical node it was meant for (`nil` for `.asLoaded`).
  static func place(
    _ partitions: [ArraySlice<Int32>], of block: RowBlock, _ placement: DataPlacement, nodeOf: [Int],
    memoryNodeOf: [Int]
  ) throws(DataLayoutError) -> [[PlacedMemory]] {
    let workers = nodeOf.count
    let logicalNodes = Set(nodeOf).count
    var placed = [[PlacedMemory]](repeating: [], count: workers)
    for (p, partition) in partitions.enumerated() where !partition.isEmpty {
      let owner = p % workers
      let rows = Int(partition.first!)..<Int(partition.last!) + 1
      // The node it is meant for (logical), and the kernel's node to bind it to.
      let target: (logical: Int, memory: Int)?
      switch placement {
      case .asLoaded: target = nil
      case .local: target = (nodeOf[owner], memoryNodeOf[owner])
      case .interleave:
        let k = p % logicalNodes
        target = (k, memoryNodeOf[nodeOf.firstIndex(of: k) ?? 0])
      case .singleNode: target = (nodeOf[0], memoryNodeOf[0])
      }
      placed[owner] += block.slice(rows).memoryRanges.map {
        PlacedMemory(range: $0, logicalNode: target?.logical)
      }
      if let target { try bind(rows: rows, of: block, toNode: target.memory) }
    }
    return placed
  }
}

/// A copy of some rows in memory allocated on one NUMA node, freed with the
/// value: a replica that the node's workers read locally. Row numbers are
/// those of the source block.
///
/// Sharing: the copy is made before the value exists and never written
/// after, so any number of threads may read ``rows`` at once.
public final class NodeLocalRows: Sendable {
  /// The NUMA node holding the copy (the kernel's number).
  public let node: Int
  /// The copied rows, in node-local memory.
  public let rows: RowBlock
  private let memory: NodeLocalMemory

  /// Copies `source` into memory on kernel node `node`.
  public init(copying source: RowBlock, onNode node: Int) throws(DataLayoutError) {
    let dense = source.layout == .dense
    let values = dense ? source.count * source.columns : source.nonZeros
    // Layout of the copy: values, labels, weights, indices, offsets; each
    // part starts at a multiple of 64 bytes.
    func aligned(_ bytes: Int) -> Int { (bytes + 63) / 64 * 64 }
    let labelsAt = aligned(values * 4)
    let weightsAt = labelsAt + aligned(source.count * 4)
    let indicesAt = weightsAt + (source.weights == nil ? 0 : aligned(source.count * 4))
    let offsetsAt = indicesAt + (dense ? 0 : aligned(values * 4))
    let total = offsetsAt + (dense ? 0 : (source.count + 1) * 8)
    do {
      memory = try NUMAMemory.allocate(bytes: max(total, 64), onNode: node)
    } catch {
      throw .placementFailed("cannot copy \(source.count) rows to node \(node): \(error)")
    }
    let base = memory.bytes.baseAddress!
    func copy<T>(_ source: UnsafePointer<T>, count: Int, to offset: Int) -> UnsafePointer<T> {
      let target = (base + offset).bindMemory(to: T.self, capacity: count)
      target.update(from: source, count: count)
      return UnsafePointer(target)
    }
    let features = copy(source.features, count: values, to: 0)
    let labels = copy(source.labels, count: source.count, to: labelsAt)
    let weights = source.weights.map { copy($0, count: source.count, to: weightsAt) }
    let indices = dense ? source.indices : copy(source.indices, count: values, to: indicesAt)
    var offsets = source.offsets
    if !dense {
      // Rebase the offsets so the copy's first row starts at value 0.
      let target = (base + offsetsAt).bindMemory(to: Int64.self, capacity: source.count + 1)
      let first = source.offsets[0]
      for row in 0...source.count { target[row] = source.offsets[row] - first }
      offsets = UnsafePointer(target)
    }
    rows = RowBlock(
      count: source.count, columns: source.columns, layout: source.layout, features: features,
      offsets: offsets, indices: indices, labels: labels, weights: weights)
    self.node = node
  }

  /// The node-local bytes holding the copy.
  public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(memory.bytes) }
}
