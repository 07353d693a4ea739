import Topology

/// A contiguous range of a dataset's rows, one worker's share.
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

extension Dataset {
  /// Splits the rows into `count` contiguous partitions: for CSR data each
  /// holds about the same number of non-zeros, for dense data the same number
  /// of rows (±1). No partition is empty when there are at least `count` rows.
  public func partitions(count: Int) throws(DatasetError) -> [Partition] {
    guard count >= 1 else {
      throw .invalidPartitioning("the partition count must be at least 1 (got \(count))")
    }
    guard count <= header.rows else {
      throw .invalidPartitioning(
        "\(count) partitions is more than the \(header.rows) rows of \(path); use at most \(header.rows)")
    }
    var bounds = [0]
    for part in 1..<count {
      let floor = bounds[part - 1] + 1
      let ceiling = header.rows - (count - part)
      let cut: Int
      if header.layout == .dense {
        cut = header.rows * part / count
      } else {
        // The first row whose start offset reaches this partition's share.
        let target = Int64(header.nonZeros) * Int64(part) / Int64(count)
        var low = floor
        var high = ceiling
        while low < high {
          let middle = (low + high) / 2
          if rows.offsets[middle] < target { low = middle + 1 } else { high = middle }
        }
        cut = low
      }
      bounds.append(min(max(cut, floor), ceiling))
    }
    bounds.append(header.rows)
    return (0..<count).map { part in
      let range = bounds[part]..<bounds[part + 1]
      let nonZeros =
        header.layout == .dense
        ? range.count * header.columns : Int(rows.offsets[range.upperBound] - rows.offsets[range.lowerBound])
      return Partition(index: part, rows: range, nonZeros: nonZeros)
    }
  }

  /// One partition per worker of `plan`, in worker order.
  public func partitions(for plan: PlacementPlan) throws(DatasetError) -> [Partition] {
    try partitions(count: plan.workers.count)
  }

  /// The rows of `partition`, read in place from the mapping.
  public func block(for partition: Partition) -> RowBlock {
    rows.slice(partition.rows)
  }

  /// The mapped bytes that hold `partition`: its features, row offsets,
  /// column indices, labels and weights (empty ranges left out).
  public func memoryRanges(of partition: Partition) -> [UnsafeRawBufferPointer] {
    block(for: partition).memoryRanges
  }

  /// Binds the mapped pages of `partition` to NUMA node `node` (the kernel's
  /// number), moving pages already in memory; pages read later are placed
  /// there too. Pages shared with a neighbouring partition at the edges go to
  /// whichever partition is bound last.
  public func bind(_ partition: Partition, toNode node: Int) throws(DatasetError) {
    for range in memoryRanges(of: partition) {
      do {
        try NUMAMemory.bind(range, toNode: node)
      } catch {
        throw .placement("cannot place partition \(partition.index) of \(path) on node \(node): \(error)")
      }
    }
  }

  /// The share of `partition`'s resident pages that are on `node`.
  public func localShare(of partition: Partition, node: Int) throws(DatasetError) -> Double {
    var local = 0.0
    var total = 0.0
    for range in memoryRanges(of: partition) {
      do {
        let pages = try NUMAMemory.nodes(ofPagesIn: range).compactMap { $0 }
        local += Double(pages.count { $0 == node })
        total += Double(pages.count)
      } catch {
        throw .placement("cannot query pages of partition \(partition.index) of \(path): \(error)")
      }
    }
    return total == 0 ? 1 : local / total
  }

  /// Copies `partition` into memory allocated on NUMA node `node` (the
  /// kernel's number): a replica each node's workers can read locally.
  public func replicate(_ partition: Partition, onNode node: Int) throws(DatasetError) -> ReplicatedPartition
  {
    try ReplicatedPartition(copying: block(for: partition), partition: partition, node: node)
  }
}

/// A partition copied into node-local memory, freed with the value.
///
/// Sharing: the copy is made before the value exists and never written
/// after, so any number of threads may read ``rows`` at once.
public final class ReplicatedPartition: Sendable {
  /// The partition that was copied.
  public let partition: Partition
  private let copy: NodeLocalRows

  init(copying source: RowBlock, partition: Partition, node: Int) throws(DatasetError) {
    do { copy = try NodeLocalRows(copying: source, onNode: node) } catch {
      throw .placement("cannot replicate partition \(partition.index) on node \(node): \(error)")
    }
    self.partition = partition
  }

  /// The NUMA node holding the copy.
  public var node: Int { copy.node }
  /// The copied rows, in node-local memory.
  public var rows: RowBlock { copy.rows }
  /// The node-local bytes holding the copy.
  public var bytes: UnsafeRawBufferPointer { copy.bytes }
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
  public init(copying source: RowBlock, onNode node: Int) throws(DatasetError) {
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
      throw .placement("cannot copy \(source.count) rows to node \(node): \(error)")
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
