/// Writes a `.sds` file from batches of rows, streaming: memory use does not
/// grow with the dataset.
///
/// Features go straight into the output file after a placeholder header; the
/// other sections go to unnamed spool files beside it and are appended at the
/// end, checksummed on the way. The header is written last and the file is
/// named only by ``finish(columns:labelKind:)`` (see ``OutputFile``): until
/// then, and if anything fails, no file appears and an existing file of the
/// same name is untouched.
///
/// Class names given by ``setClassNames(_:)`` go into a class-names section
/// at the end, and make the file format version 2; files without them are
/// version 1.
///
/// Finishing with label kind none writes no labels section: the batches'
/// labels must then all be 0 (placeholders). Leading zero labels are only
/// counted until a label that is not 0 comes, so rows without labels spool
/// nothing.
public final class DatasetWriter: RowSink {
  /// The file being written.
  public let path: String
  /// Dense or CSR.
  public let layout: Layout
  /// Rows written so far.
  public private(set) var rows = 0
  /// Values written so far.
  public private(set) var nonZeros = 0

  private let output: OutputFile
  private let offsets: OutputFile?
  private let indices: OutputFile?
  /// The labels spool, made at the first label that is not +0.
  private var labels: OutputFile?
  /// Rows before the first label that is not +0, whose zero labels are not spooled yet.
  private var pendingZeroLabels = 0
  /// The first label that is not +0 and its row: what a dataset without labels cannot hold.
  private var firstLabel: (row: Int, value: Float)?
  private var weights: OutputFile?
  private var weighted: Bool?
  private var denseColumns: Int?
  private var featureChecksum = CRC32C()
  private var maxIndex: Int32 = -1
  private var classNames: [String]?

  /// Starts writing `path` with `layout`.
  public init(path: String, layout: Layout) throws(DatasetError) {
    self.path = path
    self.layout = layout
    output = try OutputFile(creating: path)
    try output.write([UInt8](repeating: 0, count: DatasetHeader.size))
    if layout == .csr {
      offsets = try OutputFile(spoolBeside: path)
      indices = try OutputFile(spoolBeside: path)
      try offsets!.write([Int64(0)])
    } else {
      offsets = nil
      indices = nil
    }
  }

  /// Names the classes, before any rows are added: the label `Float(i)` is
  /// class `names[i]`. Names are checked as ``ClassNames`` says; every label
  /// must then be a class id below `names.count`, and the label kind class.
  public func setClassNames(_ names: [String]) throws(DatasetError) {
    guard rows == 0 else { throw .invalidRows("\(path): class names must come before the rows") }
    if let problem = ClassNames.problem(with: names) { throw .invalidRows("\(path): \(problem)") }
    classNames = names
  }

  /// Adds `batch`'s rows. Dense batches must all have the same width; CSR
  /// indices must be increasing within each row.
  public func append(_ batch: RowBatch) throws(DatasetError) {
    guard batch.layout == layout else {
      throw .invalidRows("\(path): a \(batch.layout) batch cannot go into a \(layout) dataset")
    }
    let hasWeights = !batch.weights.isEmpty
    guard !hasWeights || batch.weights.count == batch.rowCount else {
      throw .invalidRows("\(path): \(batch.weights.count) weights for \(batch.rowCount) rows")
    }
    if let weighted, weighted != hasWeights, batch.rowCount > 0 {
      throw .invalidRows("\(path): either every row has a weight or none has")
    }
    if weighted == nil, batch.rowCount > 0 {
      weighted = hasWeights
      if hasWeights { weights = try OutputFile(spoolBeside: path) }
    }
    switch layout {
    case .dense:
      if denseColumns == nil, batch.rowCount > 0 { denseColumns = batch.columns }
      guard batch.columns == (denseColumns ?? batch.columns),
        batch.values.count == batch.rowCount * batch.columns
      else {
        throw .invalidRows(
          "\(path): dense rows of \(denseColumns ?? batch.columns) values expected, found a batch of "
            + "\(batch.rowCount) rows and \(batch.values.count) values")
      }
    case .csr:
      guard batch.rowLengths.count == batch.rowCount, batch.indices.count == batch.values.count else {
        throw .invalidRows("\(path): CSR batch with inconsistent row lengths, indices and values")
      }
      var running = Int64(nonZeros)
      var rowOffsets = [Int64]()
      rowOffsets.reserveCapacity(batch.rowCount)
      for length in batch.rowLengths {
        running += Int64(length)
        rowOffsets.append(running)
      }
      guard running == Int64(nonZeros + batch.values.count) else {
        throw .invalidRows(
          "\(path): CSR row lengths add up to \(running - Int64(nonZeros)), expected \(batch.values.count)")
      }
      try offsets!.write(rowOffsets)
      try indices!.write(batch.indices)
      if let largest = batch.indices.max() { maxIndex = max(maxIndex, largest) }
    }
    if let classNames {
      let classes = Float(classNames.count)
      if let bad = batch.labels.first(where: { !($0 >= 0 && $0 < classes && $0 == $0.rounded()) }) {
        throw .invalidRows(
          "\(path): label \(bad) of row \(rows + batch.labels.firstIndex(of: bad)!) is not a class id "
            + "from 0 to \(classNames.count - 1)")
      }
    }
    batch.values.withUnsafeBytes { featureChecksum.update($0) }
    try output.write(batch.values)
    try spoolLabels(batch.labels)
    if hasWeights { try weights!.write(batch.weights) }
    rows += batch.rowCount
    nonZeros += batch.values.count
  }

  /// Writes the remaining sections and the header, syncs, and names the file.
  public func finish(columns: Int, labelKind: LabelKind) throws(DatasetError) {
    guard rows > 0 else { throw .invalidRows("\(path): no rows to write") }
    if layout == .dense, let denseColumns, denseColumns != columns {
      throw .invalidRows("\(path): rows have \(denseColumns) values but the dataset has \(columns) columns")
    }
    guard Int(maxIndex) < columns, columns <= Int(Int32.max) + 1 else {
      throw .invalidRows("\(path): column index \(maxIndex) is not below the column count \(columns)")
    }
    guard classNames == nil || labelKind == .classIndex else {
      let kind = labelKind == LabelKind.none ? "no labels (label kind none)" : "\(labelKind) ones"
      throw .invalidRows("\(path): a dataset with class names has class labels, not \(kind)")
    }
    if labelKind == LabelKind.none {
      if let firstLabel {
        throw .invalidRows(
          "\(path): row \(firstLabel.row + 1) has the label \(firstLabel.value), but a dataset without "
            + "labels (label kind none) holds none")
      }
      guard columns > 0 else {
        throw .invalidRows("\(path): a dataset without labels needs at least one column")
      }
    } else if labels == nil {
      labels = try OutputFile(spoolBeside: path)
      try writePendingZeroLabels()
    }
    var header = DatasetHeader(
      layout: layout, labelKind: labelKind, rows: rows, columns: columns, nonZeros: nonZeros)
    header[.features] = SectionEntry(
      offset: UInt64(DatasetHeader.size), length: UInt64(nonZeros * 4), checksum: featureChecksum.value)
    let spools: [(Section, OutputFile?)] = [
      (.rowOffsets, offsets), (.columnIndices, indices), (.labels, labels), (.weights, weights),
    ]
    for (section, spool) in spools {
      guard let spool, spool.length > 0 else { continue }
      try output.pad(toMultipleOf: DatasetHeader.alignment)
      let offset = output.length
      var checksum = CRC32C()
      try output.append(contentsOf: spool) { checksum.update($0) }
      header[section] = SectionEntry(
        offset: UInt64(offset), length: UInt64(spool.length), checksum: checksum.value)
    }
    if let classNames {
      try output.pad(toMultipleOf: DatasetHeader.alignment)
      let bytes = ClassNames.encoded(classNames)
      header[.classNames] = SectionEntry(
        offset: UInt64(output.length), length: UInt64(bytes.count),
        checksum: bytes.withUnsafeBytes { CRC32C.checksum($0) })
      try output.write(bytes)
      header.version = DatasetHeader.classNamesVersion
    }
    try output.overwrite(header.encoded(), at: 0)
    try output.commit()
  }

  /// Spools `batch` labels, or counts them while every label so far is +0.
  private func spoolLabels(_ batch: [Float]) throws(DatasetError) {
    if labels == nil {
      // Bit patterns: -0.0 is written as it came, so it starts the spool too.
      guard let index = batch.firstIndex(where: { $0.bitPattern != 0 }) else {
        pendingZeroLabels += batch.count
        return
      }
      firstLabel = (rows + index, batch[index])
      labels = try OutputFile(spoolBeside: path)
      try writePendingZeroLabels()
    }
    try labels!.write(batch)
  }

  /// Writes the zero labels counted before the spool existed.
  private func writePendingZeroLabels() throws(DatasetError) {
    let zeros = [Float](repeating: 0, count: min(pendingZeroLabels, 1 << 16))
    while pendingZeroLabels > 0 {
      let count = min(pendingZeroLabels, zeros.count)
      try labels!.write(Array(zeros[0..<count]))
      pendingZeroLabels -= count
    }
  }
}
