import Dataset
import Foundation
import Testing

/// Writes a dense 4 × 2 dataset whose labels are `labels`, naming the classes `names`.
private func writeNamed(_ path: String, names: [String]?, labels: [Float] = [2, 0, 1, 0]) throws {
  let writer = try DatasetWriter(path: path, layout: .dense)
  if let names { try writer.setClassNames(names) }
  var batch = RowBatch(layout: .dense, columns: 2)
  batch.labels = labels
  batch.values = (0..<labels.count * 2).map(Float.init)
  try writer.append(batch)
  try writer.finish(columns: 2, labelKind: .classIndex)
}

/// Sets the little-endian `value` at `offset` of `bytes`.
private func put<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout Data) {
  withUnsafeBytes(of: value.littleEndian) { raw in
    for (index, byte) in raw.enumerated() { bytes[offset + index] = byte }
  }
}

/// Recomputes the header's own checksum after an edit.
private func resealHeader(_ bytes: inout Data) {
  let checksum = bytes.prefix(252).withUnsafeBytes { CRC32C.checksum($0) }
  put(checksum, at: 252, in: &bytes)
}

@Suite("Dataset files: class names")
struct ClassNamesTests {
  @Test("names written with the rows read back in order, in a version 2 file that verifies")
  func roundTrip() throws {
    let path = try temporaryFolder() + "/named.sds"
    try writeNamed(path, names: ["ham", "spam", "héllo wörld"])
    let data = try Dataset(path: path)
    #expect(data.classNames == ["ham", "spam", "héllo wörld"])
    #expect(data.header.version == 2 && data.header.labelKind == .classIndex)
    #expect((0..<4).map(data.rows.label) == [2, 0, 1, 0])
    let entry = data.header[.classNames]
    #expect(entry.offset % 64 == 0 && entry.length == UInt64("ham\nspam\nhéllo wörld\n".utf8.count))
    #expect(Array(data.bytes(of: .classNames)) == Array("ham\nspam\nhéllo wörld\n".utf8))
    try data.verify()
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    try bytes.dropLast().write(to: URL(fileURLWithPath: path))
    #expect(throws: DatasetError.self, "a file missing its last byte opened") { try Dataset(path: path) }
  }

  @Test("a file without names stays version 1 with the class-names slot zero, and classNames is nil")
  func withoutNames() throws {
    let path = try temporaryFolder() + "/plain.sds"
    try writeNamed(path, names: nil)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    #expect(bytes[8..<12] == Data([1, 0, 0, 0]))
    #expect(bytes[168..<252].allSatisfy { $0 == 0 })
    let data = try Dataset(path: path)
    #expect(data.classNames == nil && data.header.version == 1 && !data.header.hasClassNames)
    try data.verify()
  }

  @Test("a version 1 file ignores its reserved bytes, as version 1 readers did")
  func versionOneReservedBytes() throws {
    let path = try temporaryFolder() + "/v1.sds"
    try writeNamed(path, names: nil)
    var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    put(UInt64(256), at: 168, in: &bytes)  // what would be a class-names entry in version 2
    put(UInt64(8), at: 176, in: &bytes)
    resealHeader(&bytes)
    try bytes.write(to: URL(fileURLWithPath: path))
    let data = try Dataset(path: path)
    #expect(data.classNames == nil && data.header[.classNames].length == 0)
    try data.verify()
  }

  @Test("damaged names are refused on open; version 3 is refused as newer")
  func damaged() throws {
    let folder = try temporaryFolder()
    let path = folder + "/named.sds"
    try writeNamed(path, names: ["a", "b", "c"])
    let good = try Data(contentsOf: URL(fileURLWithPath: path))
    let offset = Int(try Dataset(path: path).header[.classNames].offset)
    var bytes = good
    bytes[bytes.count - 2] ^= 0x01  // 'c' → 'b': a repeated name, but first the checksum
    try bytes.write(to: URL(fileURLWithPath: path))
    #expect {
      try Dataset(path: path)
    } throws: { error in
      guard case .checksumMismatch(_, "class names", _, _) = error as? DatasetError else { return false }
      return true
    }
    // The same damage with a matching checksum: the names themselves are refused.
    let crc = bytes[offset...].withUnsafeBytes { CRC32C.checksum($0) }
    put(crc, at: 168 + 16, in: &bytes)
    resealHeader(&bytes)
    try bytes.write(to: URL(fileURLWithPath: path))
    #expect(
      throws: DatasetError.invalidHeader(
        path: path, field: "class names", expected: "distinct names", found: "class name 2 ('b') is repeated")
    ) { try Dataset(path: path) }
    bytes = good
    bytes[8] = 3
    try bytes.write(to: URL(fileURLWithPath: path))
    #expect(throws: DatasetError.unsupportedVersion(path: path, found: 3, supported: 2)) {
      try Dataset(path: path)
    }
  }

  @Test("verify finds a label that is not a class id")
  func labelOutOfRange() throws {
    let path = try temporaryFolder() + "/named.sds"
    try writeNamed(path, names: ["a", "b", "c"])
    var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    let data = try Dataset(path: path)
    let labels = Int(data.header[.labels].offset)
    put(Float(3).bitPattern, at: labels + 4, in: &bytes)
    let crc = bytes[labels..<labels + 16].withUnsafeBytes { CRC32C.checksum($0) }
    put(crc, at: 48 + 24 * 3 + 16, in: &bytes)
    resealHeader(&bytes)
    try bytes.write(to: URL(fileURLWithPath: path))
    #expect(
      throws: DatasetError.invalidRow(source: path, row: 1, problem: "label 3.0 is not a class id from 0 to 2")
    ) { try Dataset(path: path).verify() }
  }

  @Test(
    "the writer refuses names that the format cannot hold",
    arguments: [
      ([], "expected from 1 to 65535 class names, found 0"),
      (["a", ""], "class name 1 ('') is empty"),
      (["a", "b\u{0}"], "class name 1 ('b\u{0}') holds a NUL byte"),
      (["a\nb"], "class name 0 ('a\nb') holds a line break"),
      (["x", "y", "x"], "class name 2 ('x') is repeated"),
      ((0...65_535).map { "c\($0)" }, "expected from 1 to 65535 class names, found 65536"),
    ])
  func badNames(names: [String], message: String) throws {
    let writer = try DatasetWriter(path: try temporaryFolder() + "/bad.sds", layout: .dense)
    #expect {
      try writer.setClassNames(names)
    } throws: { error in
      "\(error)".hasSuffix(": " + message)
    }
  }

  @Test("the writer refuses labels that are not class ids, and other label kinds")
  func badLabels() throws {
    let folder = try temporaryFolder()
    #expect {
      try writeNamed(folder + "/a.sds", names: ["a", "b"], labels: [0, 1, 2, 1])
    } throws: { error in
      "\(error)".hasSuffix("label 2.0 of row 2 is not a class id from 0 to 1")
    }
    let writer = try DatasetWriter(path: folder + "/b.sds", layout: .dense)
    try writer.setClassNames(["a", "b"])
    var batch = RowBatch(layout: .dense, columns: 1)
    batch.labels = [0, 1]
    batch.values = [5, 6]
    try writer.append(batch)
    #expect(throws: DatasetError.self) { try writer.setClassNames(["c"]) }
    #expect {
      try writer.finish(columns: 1, labelKind: .binary)
    } throws: { error in
      "\(error)".hasSuffix("a dataset with class names has class labels, not binary ones")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
  }
}
