import Dataset
import Foundation
import Testing

/// Writes a dense dataset without labels: rows [1, 2], [3, 4.5], [0, -6].
func writeUnlabelled(_ path: String) throws {
  let writer = try DatasetWriter(path: path, layout: .dense)
  var batch = RowBatch(layout: .dense, columns: 2)
  batch.labels = [0, 0, 0]
  batch.values = [1, 2, 3, 4.5, 0, -6]
  try writer.append(batch)
  try writer.finish(columns: 2, labelKind: LabelKind.none)
}

/// `path`'s header decoded, changed by `change`, and written back with a
/// valid header checksum: a file that is well formed but for what `change` did.
func rewriteHeader(_ path: String, _ change: (inout DatasetHeader) -> Void) throws {
  var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
  var header = try bytes.withUnsafeBytes { try DatasetHeader.decode($0, path: path) }
  change(&header)
  bytes.replaceSubrange(0..<DatasetHeader.size, with: header.encoded())
  try bytes.write(to: URL(fileURLWithPath: path))
}

@Suite("Datasets without labels (label kind none)")
struct UnlabelledDatasetTests {
  @Test("a file without labels has no labels section and reads every label as 0")
  func roundTrip() throws {
    let path = try temporaryFolder() + "/none.sds"
    try writeUnlabelled(path)
    let data = try Dataset(path: path)
    #expect(data.header.labelKind == LabelKind.none && !data.hasLabels && !data.header.hasLabels)
    #expect(data.header[.labels] == SectionEntry(offset: 0, length: 0, checksum: 0))
    #expect(data.header.version == 1)
    // Header, 64-byte aligned features of 6 floats, nothing after them.
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == 256 + 24)
    #expect(Array(data.rows.denseRow(1)) == [3, 4.5] && Array(data.rows.denseRow(2)) == [0, -6])
    #expect((0..<3).map(data.rows.label) == [0, 0, 0])
    try data.verify()
    // The header reads back as written.
    let bytes = data.header.encoded()
    let decoded = try bytes.withUnsafeBytes { raw in
      var file = Array(raw)
      file += [UInt8](repeating: 0, count: 24)
      return try file.withUnsafeBytes { try DatasetHeader.decode($0, path: path) }
    }
    #expect(decoded == data.header)
    #expect(LabelKind(name: "none") == LabelKind.none && "\(LabelKind.none)" == "none")
  }

  @Test("checked rows keep the zero labels alive after the dataset goes")
  func ownerKeepsZeros() throws {
    let path = try temporaryFolder() + "/none.sds"
    try writeUnlabelled(path)
    var rows: CheckedRows? = nil
    do { rows = try Dataset(path: path).checkedRows(threads: 2) }
    let kept = try #require(rows)
    #expect((0..<kept.count).map(kept.label) == [0, 0, 0])
    #expect(Array(kept.slice(1..<3).denseRow(0)) == [3, 4.5])
  }

  @Test("a file without labels that has a labels section, and a labelled one without, are refused")
  func labelsSectionMustFitKind() throws {
    let folder = try temporaryFolder()
    let labelled = folder + "/labelled.sds"
    try writeDense(labelled, rows: 2, columns: 3)
    try rewriteHeader(labelled) { $0.labelKind = LabelKind.none }
    #expect(
      throws: DatasetError.invalidHeader(
        path: labelled, field: "labels length", expected: "0 bytes for label kind 3 (none)", found: "8")
    ) { try Dataset(path: labelled) }

    let unlabelled = folder + "/unlabelled.sds"
    try writeUnlabelled(unlabelled)
    try rewriteHeader(unlabelled) { $0.labelKind = .real }
    #expect(
      throws: DatasetError.invalidHeader(
        path: unlabelled, field: "labels length", expected: "12 bytes for label kind 0 (real)", found: "0")
    ) { try Dataset(path: unlabelled) }
  }

  @Test("a file without labels needs a column, and holds no class names")
  func columnsAndClassNames() throws {
    let folder = try temporaryFolder()
    let path = folder + "/none.sds"
    try writeUnlabelled(path)
    // Without a column the rows would not be bounded by the file's size.
    try rewriteHeader(path) { header in
      header.columns = 0
      header.rows = 1 << 40
      header.nonZeros = 0
      header[.features] = SectionEntry(offset: 0, length: 0, checksum: 0)
    }
    #expect(
      throws: DatasetError.invalidHeader(
        path: path, field: "columns", expected: "at least 1 in a file without labels (label kind 3, none)",
        found: "0")
    ) { try Dataset(path: path) }

    let named = folder + "/named.sds"
    let writer = try DatasetWriter(path: named, layout: .dense)
    try writer.setClassNames(["a", "b"])
    var batch = RowBatch(layout: .dense, columns: 1)
    batch.labels = [0]
    batch.values = [1]
    try writer.append(batch)
    #expect(
      throws: DatasetError.invalidRows(
        "\(named): a dataset with class names has class labels, not no labels (label kind none)")
    ) {
      try writer.finish(columns: 1, labelKind: LabelKind.none)
    }
  }

  @Test("the writer refuses a label that is not 0, and no columns, for a dataset without labels")
  func writerRefuses() throws {
    let folder = try temporaryFolder()
    let path = folder + "/bad.sds"
    let writer = try DatasetWriter(path: path, layout: .dense)
    var batch = RowBatch(layout: .dense, columns: 1)
    batch.labels = [0, 0, 2]
    batch.values = [1, 2, 3]
    try writer.append(batch)
    #expect(
      throws: DatasetError.invalidRows(
        "\(path): row 3 has the label 2.0, but a dataset without labels (label kind none) holds none")
    ) { try writer.finish(columns: 1, labelKind: LabelKind.none) }
    #expect(!FileManager.default.fileExists(atPath: path))

    let empty = try DatasetWriter(path: path, layout: .csr)
    var rows = RowBatch(layout: .csr)
    rows.labels = [0]
    rows.rowLengths = [0]
    try empty.append(rows)
    #expect(throws: DatasetError.invalidRows("\(path): a dataset without labels needs at least one column")) {
      try empty.finish(columns: 0, labelKind: LabelKind.none)
    }
  }

  @Test("zero labels before the first other label are written as zeros, byte for byte")
  func leadingZeroLabels() throws {
    let folder = try temporaryFolder()
    let path = folder + "/binary.sds"
    let writer = try DatasetWriter(path: path, layout: .dense)
    for labels in [[0, 0], [0, 1], [1, 0]] as [[Float]] {
      var batch = RowBatch(layout: .dense, columns: 1)
      batch.labels = labels
      batch.values = [5, 6]
      try writer.append(batch)
    }
    try writer.finish(columns: 1, labelKind: .binary)
    let data = try Dataset(path: path)
    #expect((0..<6).map(data.rows.label) == [0, 0, 0, 1, 1, 0])
    try data.verify()
  }

  @Test("every truncation of a file without labels is refused, never a crash")
  func truncations() throws {
    let folder = try temporaryFolder()
    let path = folder + "/none.sds"
    try writeUnlabelled(path)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    let cut = folder + "/cut.sds"
    for length in 0..<bytes.count {
      try bytes.prefix(length).write(to: URL(fileURLWithPath: cut))
      #expect(throws: DatasetError.self, "a file cut to \(length) bytes opened") { try Dataset(path: cut) }
    }
  }
}
