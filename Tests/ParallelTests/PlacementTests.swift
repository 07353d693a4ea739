import Dataset
import Testing
import Topology

@testable import Parallel

/// Rows owned by the test: a CSR block whose row i holds i + 1 values
/// (`triangle`), or dense rows `10 r + c` with weights 0.5.
final class OwnedRows: @unchecked Sendable {
  let block: RowBlock
  private let buffers: [UnsafeMutableRawBufferPointer]

  init(triangle rows: Int) {
    var features: [Float] = []
    var indices: [Int32] = []
    var offsets: [Int64] = [0]
    for row in 0..<rows {
      for column in 0...row {
        indices.append(Int32(column))
        features.append(Float(row))
      }
      offsets.append(Int64(features.count))
    }
    let labels = (0..<rows).map { Float($0 % 2) }
    (block, buffers) = Self.block(rows, rows, .csr, features, offsets, indices, labels, nil)
  }

  init(dense rows: Int, columns: Int) {
    let features = (0..<rows * columns).map { Float(10 * ($0 / columns) + $0 % columns) }
    let labels = (0..<rows).map { Float($0 % 2) }
    (block, buffers) = Self.block(
      rows, columns, .dense, features, [0], [0], labels, Array(repeating: 0.5, count: rows))
  }

  deinit { for buffer in buffers { buffer.deallocate() } }

  /// A block over copies of the arrays, in memory this value owns.
  private static func block(
    _ count: Int, _ columns: Int, _ layout: Layout, _ features: [Float], _ offsets: [Int64],
    _ indices: [Int32],
    _ labels: [Float], _ weights: [Float]?
  ) -> (RowBlock, [UnsafeMutableRawBufferPointer]) {
    var buffers: [UnsafeMutableRawBufferPointer] = []
    func copy<T>(_ values: [T]) -> UnsafePointer<T> {
      let buffer = UnsafeMutableRawBufferPointer.allocate(
        byteCount: max(values.count, 1) * MemoryLayout<T>.stride, alignment: 64)
      buffers.append(buffer)
      let typed = buffer.bindMemory(to: T.self)
      _ = typed.initialize(from: values)
      return UnsafePointer(typed.baseAddress!)
    }
    let block = RowBlock(
      count: count, columns: columns, layout: layout, features: copy(features), offsets: copy(offsets),
      indices: copy(indices), labels: copy(labels), weights: weights.map { copy($0) })
    return (block, buffers)
  }
}

@Suite("Partitioning and NUMA placement")
struct PlacementTests {
  @Test("sparse partitions are contiguous and balanced by non-zeros")
  func balancedByNonZeros() throws {
    let data = OwnedRows(triangle: 100)
    let parts = try DataLayout.partitions(of: data.block, count: 4)
    #expect(parts.count == 4)
    #expect(parts.first?.rows.lowerBound == 0 && parts.last?.rows.upperBound == 100)
    for (left, right) in zip(parts, parts.dropFirst()) {
      #expect(left.rows.upperBound == right.rows.lowerBound)
    }
    #expect(parts.map(\.nonZeros).reduce(0, +) == data.block.nonZeros)
    let share = Double(data.block.nonZeros) / 4
    for part in parts {
      #expect(abs(Double(part.nonZeros) - share) <= 100, "partition \(part.index) holds \(part.nonZeros)")
    }
    // Row counts differ a lot: later rows are longer.
    #expect(parts[0].rows.count > 2 * parts[3].rows.count)
  }

  @Test("dense partitions split rows evenly; no partition is empty")
  func dense() throws {
    let data = OwnedRows(dense: 10, columns: 2)
    #expect(try DataLayout.partitions(of: data.block, count: 3).map(\.rows.count) == [3, 3, 4])
    #expect(try DataLayout.partitions(of: data.block, count: 10).allSatisfy { $0.rows.count == 1 })
    #expect(throws: DataLayoutError.self) { try DataLayout.partitions(of: data.block, count: 11) }
    #expect(throws: DataLayoutError.self) { try DataLayout.partitions(of: data.block, count: 0) }
  }

  @Test("rows with holes are split into runs and dealt to workers round-robin, each row once")
  func layout() throws {
    let data = OwnedRows(triangle: 60)
    let machine = try Topology.current()
    let plan = try PlacementPlan(topology: machine, workers: 1, policy: .spread)
    let training = (0..<60).filter { $0 % 5 != 4 }.map(Int32.init)  // every fifth row held out
    let layout = try DataLayout(rows: training, of: data.block, plan: plan, on: machine, partitions: 3)
    #expect(layout.assignments.count == 1)
    #expect(layout.assignments[0].rows == training, "one worker takes partitions 0, 1, 2 in order")
    let runs = DataLayout.split(training, of: data.block, into: 3)
    #expect(runs.map(\.count).reduce(0, +) == training.count && runs.allSatisfy { !$0.isEmpty })
    if NUMAMemory.isAvailable && machine.nodes.count == 1 {
      #expect(layout.localShare(of: 0) == 1, "on one node every resident page is local")
    }
  }

  @Test(
    "rows bound to node 0 are all local there, and read the same",
    .enabled(if: NUMAMemory.isAvailable, "this kernel has no NUMA support"))
  func bindToNodeZero() throws {
    let data = OwnedRows(triangle: 300)
    for part in try DataLayout.partitions(of: data.block, count: 2) {
      try DataLayout.bind(rows: part.rows, of: data.block, toNode: 0)
      let block = data.block.slice(part.rows)
      var sum: Float = 0
      for row in 0..<block.count { sum += block.sparseRow(row).values.reduce(0, +) }
      #expect(sum > 0)
      for range in block.memoryRanges { #expect(try NUMAMemory.localShare(of: range, node: 0) == 1) }
    }
  }

  @Test(
    "a node-local copy holds the same rows in node-local memory",
    .enabled(if: NUMAMemory.isAvailable, "this kernel has no NUMA support"))
  func replicate() throws {
    let data = OwnedRows(triangle: 50)
    for part in try DataLayout.partitions(of: data.block, count: 3) {
      let original = data.block.slice(part.rows)
      let copy = try NodeLocalRows(copying: original, onNode: 0)
      #expect(copy.rows.count == original.count && copy.rows.nonZeros == part.nonZeros)
      for row in 0..<original.count {
        #expect(Array(copy.rows.sparseRow(row).indices) == Array(original.sparseRow(row).indices))
        #expect(Array(copy.rows.sparseRow(row).values) == Array(original.sparseRow(row).values))
        #expect(copy.rows.label(row) == original.label(row))
      }
      #expect(try NUMAMemory.localShare(of: copy.bytes, node: 0) == 1)
    }
    let dense = OwnedRows(dense: 7, columns: 3)
    let second = try DataLayout.partitions(of: dense.block, count: 2)[1]
    let copy = try NodeLocalRows(copying: dense.block.slice(second.rows), onNode: 0)
    #expect(Array(copy.rows.denseRow(0)) == [30, 31, 32] && copy.rows.weight(0) == 0.5)
  }

  @Test(
    "placing on a node that does not exist is refused",
    .enabled(if: NUMAMemory.isAvailable, "this kernel has no NUMA support"))
  func noSuchNode() throws {
    let data = OwnedRows(triangle: 10)
    #expect(throws: DataLayoutError.self) { try DataLayout.bind(rows: 0..<10, of: data.block, toNode: 4096) }
    #expect(throws: DataLayoutError.self) { try NodeLocalRows(copying: data.block, onNode: 4096) }
  }
}
