import Dataset
import Foundation
import Testing

@Suite("Dataset files: writing, opening, checking")
struct DatasetFileTests {
  @Test("a sparse dataset reads back row by row")
  func sparseRoundTrip() throws {
    let path = try temporaryFolder() + "/small.sds"
    try writeSmallSparse(path)
    let data = try Dataset(path: path)
    #expect(data.header.layout == .csr)
    #expect(data.header.rows == 3 && data.header.columns == 3 && data.header.nonZeros == 3)
    #expect(data.header.labelKind == .binary)
    let first = data.rows.sparseRow(0)
    #expect(Array(first.indices) == [0, 2] && Array(first.values) == [1, 2])
    #expect(data.rows.sparseRow(1).indices.isEmpty)
    #expect(Array(data.rows.sparseRow(2).values) == [-3.5])
    #expect((0..<3).map(data.rows.label) == [1, -1, 1])
    #expect(data.rows.weight(0) == 1)
    try data.verify()
    for section in Section.allCases where data.header[section].length > 0 {
      #expect(data.header[section].offset % 64 == 0, "\(section) is not 64-byte aligned")
    }
  }

  @Test("a dense dataset with weights reads back, and slices share its memory")
  func denseRoundTrip() throws {
    let path = try temporaryFolder() + "/dense.sds"
    try writeDense(path, rows: 5, columns: 3, weights: true)
    let data = try Dataset(path: path)
    #expect(Array(data.rows.denseRow(4)) == [40, 41, 42])
    #expect(data.rows.weight(2) == 0.5)
    let slice = data.rows.slice(2..<4)
    #expect(Array(slice.denseRow(1)) == [30, 31, 32] && slice.label(0) == 2)
    try data.verify()
  }

  @Test("every truncation of a file is refused with an error, never a crash")
  func truncations() throws {
    let folder = try temporaryFolder()
    let path = folder + "/small.sds"
    try writeSmallSparse(path)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    let cut = folder + "/cut.sds"
    for length in 0..<bytes.count {
      try bytes.prefix(length).write(to: URL(fileURLWithPath: cut))
      #expect(throws: DatasetError.self, "a file cut to \(length) bytes opened") { try Dataset(path: cut) }
    }
    try bytes.write(to: URL(fileURLWithPath: cut))
    #expect(try Dataset(path: cut).header.rows == 3)
  }

  @Test("a foreign file, a newer version and a damaged header are told apart")
  func foreignAndNewer() throws {
    let folder = try temporaryFolder()
    let path = folder + "/small.sds"
    try writeSmallSparse(path)
    var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    let other = folder + "/other.sds"

    try Data("label,x\n1,2\n".utf8).write(to: URL(fileURLWithPath: other))
    #expect(throws: DatasetError.notADataset(path: other)) { try Dataset(path: other) }

    bytes[8] = 3
    try bytes.write(to: URL(fileURLWithPath: other))
    #expect(throws: DatasetError.unsupportedVersion(path: other, found: 3, supported: 2)) {
      try Dataset(path: other)
    }
    let error = DatasetError.unsupportedVersion(path: other, found: 3, supported: 2)
    #expect(error.description.contains("newer than this Sounder reads"))

    bytes[8] = 1
    bytes[24] = 9  // rows: the header checksum no longer matches
    try bytes.write(to: URL(fileURLWithPath: other))
    #expect {
      try Dataset(path: other)
    } throws: { error in
      guard case .checksumMismatch(_, "header", _, _) = error as? DatasetError else { return false }
      return true
    }
  }

  @Test("damaged section bytes open, and verify finds them")
  func damagedSection() throws {
    let folder = try temporaryFolder()
    let path = folder + "/small.sds"
    try writeSmallSparse(path)
    var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    bytes[257] ^= 0xFF
    try bytes.write(to: URL(fileURLWithPath: path))
    let data = try Dataset(path: path)
    #expect {
      try data.verify()
    } throws: { error in
      guard case .checksumMismatch(_, "features", _, _) = error as? DatasetError else { return false }
      return true
    }
  }

  @Test("concurrent writers of one output: the file is always one writer's whole bytes")
  func concurrentWriters() throws {
    let folder = try temporaryFolder()
    let path = folder + "/shared.bin"
    let payloads = (0..<4).map { writer in [UInt8](repeating: UInt8(writer + 1), count: (1 << 20) + writer) }
    for _ in 0..<5 {
      DispatchQueue.concurrentPerform(iterations: payloads.count) { writer in
        do {
          let file = try OutputFile(creating: path)
          try file.write(payloads[writer])
          try file.commit()
        } catch {
          Issue.record("writer \(writer): \(error)")
        }
      }
      let found = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
      #expect(payloads.contains(found), "a mix of writers: \(found.count) bytes")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["shared.bin"])
  }

  @Test("an unfinished or failed write leaves no file and keeps an existing one")
  func atomicWrites() throws {
    let folder = try temporaryFolder()
    let path = folder + "/keep.sds"
    try writeSmallSparse(path)
    let before = try Data(contentsOf: URL(fileURLWithPath: path))
    do {
      let writer = try DatasetWriter(path: path, layout: .dense)
      var batch = RowBatch(layout: .dense, columns: 2)
      batch.labels = [1]
      batch.values = [1, 2]
      try writer.append(batch)
      // Dropped without finish: as if the conversion failed.
    }
    do {
      let writer = try DatasetWriter(path: path, layout: .dense)
      #expect(throws: DatasetError.self) { try writer.finish(columns: 2, labelKind: .real) }
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["keep.sds"])
    let fresh = folder + "/never.sds"
    do { _ = try DatasetWriter(path: fresh, layout: .csr) }
    #expect(!FileManager.default.fileExists(atPath: fresh))
  }

  @Test("ragged dense batches are refused")
  func raggedBatch() throws {
    let writer = try DatasetWriter(path: try temporaryFolder() + "/r.sds", layout: .dense)
    var batch = RowBatch(layout: .dense, columns: 3)
    batch.labels = [1, 2]
    batch.values = [1, 2, 3, 4]
    #expect(throws: DatasetError.self) { try writer.append(batch) }
  }
}
