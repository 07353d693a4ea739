import Dataset
import Testing
import Topology

@Suite("Partitioning and NUMA placement")
struct PartitionTests {
  /// A CSR dataset whose row i holds i + 1 values.
  func triangle(rows: Int) throws -> Dataset {
    let path = try temporaryFolder() + "/triangle.sds"
    let writer = try DatasetWriter(path: path, layout: .csr)
    var batch = RowBatch(layout: .csr)
    for row in 0..<rows {
      batch.labels.append(Float(row % 2))
      batch.rowLengths.append(Int32(row + 1))
      for column in 0...row {
        batch.indices.append(Int32(column))
        batch.values.append(Float(row))
      }
    }
    try writer.append(batch)
    try writer.finish(columns: rows, labelKind: .binary)
    return try Dataset(path: path)
  }

  @Test("sparse partitions are contiguous and balanced by non-zeros")
  func balancedByNonZeros() throws {
    let data = try triangle(rows: 100)
    let parts = try data.partitions(count: 4)
    #expect(parts.count == 4)
    #expect(parts.first?.rows.lowerBound == 0 && parts.last?.rows.upperBound == 100)
    for (left, right) in zip(parts, parts.dropFirst()) {
      #expect(left.rows.upperBound == right.rows.lowerBound)
    }
    #expect(parts.map(\.nonZeros).reduce(0, +) == data.header.nonZeros)
    let share = Double(data.header.nonZeros) / 4
    for part in parts {
      #expect(abs(Double(part.nonZeros) - share) <= 100, "partition \(part.index) holds \(part.nonZeros)")
    }
    // Row counts differ a lot: later rows are longer.
    #expect(parts[0].rows.count > 2 * parts[3].rows.count)
  }

  @Test("dense partitions split rows evenly; no partition is empty")
  func dense() throws {
    let path = try temporaryFolder() + "/d.sds"
    try writeDense(path, rows: 10, columns: 2)
    let data = try Dataset(path: path)
    #expect(try data.partitions(count: 3).map(\.rows.count) == [3, 3, 4])
    #expect(try data.partitions(count: 10).allSatisfy { $0.rows.count == 1 })
    #expect(throws: DatasetError.self) { try data.partitions(count: 11) }
    #expect(throws: DatasetError.self) { try data.partitions(count: 0) }
  }

  @Test("a partition bound to node 0 is all local there, and rows read the same")
  func bindToNodeZero() throws {
    let data = try triangle(rows: 300)
    for part in try data.partitions(count: 2) {
      try data.bind(part, toNode: 0)
      let block = data.block(for: part)
      var sum: Float = 0
      for row in 0..<block.count { sum += block.sparseRow(row).values.reduce(0, +) }
      #expect(sum > 0)
      #expect(try data.localShare(of: part, node: 0) == 1)
    }
  }

  @Test("a replica on node 0 holds the same rows in node-local memory")
  func replicate() throws {
    let data = try triangle(rows: 50)
    let parts = try data.partitions(count: 3)
    for part in parts {
      let copy = try data.replicate(part, onNode: 0)
      let original = data.block(for: part)
      #expect(copy.rows.count == original.count && copy.rows.nonZeros == part.nonZeros)
      for row in 0..<original.count {
        #expect(Array(copy.rows.sparseRow(row).indices) == Array(original.sparseRow(row).indices))
        #expect(Array(copy.rows.sparseRow(row).values) == Array(original.sparseRow(row).values))
        #expect(copy.rows.label(row) == original.label(row))
      }
      #expect(try NUMAMemory.localShare(of: copy.bytes, node: 0) == 1)
    }
    let path = try temporaryFolder() + "/d.sds"
    try writeDense(path, rows: 7, columns: 3, weights: true)
    let dense = try Dataset(path: path)
    let copy = try dense.replicate(try dense.partitions(count: 2)[1], onNode: 0)
    #expect(Array(copy.rows.denseRow(0)) == [30, 31, 32] && copy.rows.weight(0) == 0.5)
  }

  @Test("placing on a node that does not exist is refused")
  func noSuchNode() throws {
    let data = try triangle(rows: 10)
    let part = try data.partitions(count: 1)[0]
    #expect(throws: DatasetError.self) { try data.bind(part, toNode: 4096) }
    #expect(throws: DatasetError.self) { try data.replicate(part, onNode: 4096) }
  }
}
