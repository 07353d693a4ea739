import Dataset

/// The file formats Sounder reads and writes.
public enum DataFormat: String, Sendable, CaseIterable {
  /// LIBSVM / SVMlight text (sparse).
  case libsvm
  /// Comma-separated text (dense).
  case csv
  /// NumPy `.npy` arrays (dense).
  case npy
  /// Sounder's binary dataset.
  case sds

  /// The format a file name's extension suggests: .svm, .libsvm, .svmlight
  /// and .txt are LIBSVM; .csv CSV; .npy NumPy; .sds Sounder's own.
  public init?(path: String) {
    let name = path.split(separator: "/").last.map(String.init) ?? path
    guard let dot = name.lastIndex(of: ".") else { return nil }
    switch name[name.index(after: dot)...].lowercased() {
    case "svm", "libsvm", "svmlight", "txt": self = .libsvm
    case "csv": self = .csv
    case "npy": self = .npy
    case "sds": self = .sds
    default: return nil
    }
  }
}

/// What a conversion produced.
public struct ConversionSummary: Sendable, Equatable {
  /// Rows written.
  public var rows: Int
  /// Columns (features).
  public var columns: Int
  /// Values stored.
  public var nonZeros: Int
  /// Dense or CSR.
  public var layout: Layout
  /// What the labels mean.
  public var labelKind: LabelKind
  /// Bytes of input read.
  public var inputBytes: Int
  /// The names of the classes, by class id, when the labels were names (or
  /// the `.sds` input named its classes); nil otherwise.
  public var classNames: [String]? = nil
}

/// Reading LIBSVM, CSV, NumPy and `.sds` files into any ``RowSink``.
///
/// ```swift
/// let summary = try Importer.convert(input: "train.svm", output: "train.sds")
/// ```
public enum Importer {
  /// Reads LIBSVM text at `path` into `sink` (CSR rows), in parallel.
  /// With label kind none, lines have no label (see ``LIBSVMOptions/labelKind``).
  public static func readLIBSVM(
    _ path: String, into sink: RowSink, options: LIBSVMOptions = LIBSVMOptions(),
    settings: IngestSettings = IngestSettings()
  ) throws(IngestError) -> ConversionSummary {
    let file = try openInput(path)
    if options.labelKind == LabelKind.none { try setUnlabelled(sink) }
    let parser = LIBSVMLineParser(options: options)
    return try readText(
      file, into: sink, layout: .csr, labelKind: options.labelKind, features: options.features,
      settings: settings
    ) { (line: UnsafeRawBufferPointer) throws(IngestError) in (parser, false) }
  }

  /// Reads CSV text at `path` into `sink` (dense rows), in parallel.
  ///
  /// When the first row's label is text (a name such as `setosa`), every
  /// label must be a name: a first pass over the label column collects them,
  /// class ids 0, 1, … go to the names in byte-wise sorted order (so the
  /// result is the same for any thread count), `sink` gets the names through
  /// ``RowSink/setClassNames(_:)`` before the rows, and each row's label is
  /// its class id.
  ///
  /// With label kind none there is no label column: every column is a
  /// feature (see ``CSVOptions/labelKind``).
  public static func readCSV(
    _ path: String, into sink: RowSink, options: CSVOptions = CSVOptions(),
    settings: IngestSettings = IngestSettings()
  ) throws(IngestError) -> ConversionSummary {
    let file = try openInput(path)
    guard let lines = try firstLines(of: path) else {
      throw .malformed(path: path, line: 1, message: "expected at least one row, found an empty file")
    }
    var (parser, skip) = try lines.first.withUnsafeBufferPointer { (first) throws(IngestError) in
      let firstLine = UnsafeRawBufferPointer(first)
      guard let next = lines.next else {
        return try CSVLineParser.make(firstLine: firstLine, next: nil, options: options, path: path)
      }
      return try next.text.withUnsafeBufferPointer { (text) throws(IngestError) in
        try CSVLineParser.make(
          firstLine: firstLine, next: (UnsafeRawBufferPointer(text), next.line), options: options, path: path)
      }
    }
    if parser.labelsAreNames {
      parser.classes = try collectClassNames(path, parser: parser, skip: skip, settings: settings)
      do { try sink.setClassNames(parser.classes.names) } catch { throw .dataset(error) }
    }
    if parser.labelField == nil { try setUnlabelled(sink) }
    let chosen = parser
    var summary = try readText(
      file, into: sink, layout: .dense, labelKind: parser.labelsAreNames ? .classIndex : options.labelKind,
      features: nil, settings: settings
    ) { (_: UnsafeRawBufferPointer) throws(IngestError) in (chosen, skip) }
    if parser.labelsAreNames { summary.classNames = parser.classes.names }
    return summary
  }

  /// The label pass of a CSV file with name labels: every distinct name,
  /// numbered in byte-wise sorted order. Pieces are parsed in parallel and
  /// merged in file order, so the line of a name past the limit is exact.
  private static func collectClassNames(
    _ path: String, parser: CSVLineParser, skip: Bool, settings: IngestSettings
  ) throws(IngestError) -> NameTable {
    var quiet = settings
    quiet.progress = nil
    var found = NameTable()
    try readInParallel(
      try openInput(path), settings: quiet,
      firstLine: { (_: UnsafeRawBufferPointer?) throws(IngestError) in (CSVLabelCollector(rows: parser), skip)
      },
      consume: { (piece: ParsedPiece, first: Int) throws(IngestError) in
        for id in 0..<piece.names.count {
          let inserted = piece.names.bytes(of: id).withUnsafeBytes { found.insert($0).inserted }
          guard inserted, found.count > ClassNames.maximumCount else { continue }
          throw .malformed(
            path: path, line: first + piece.nameLines[id] - 1,
            message: "expected at most \(ClassNames.maximumCount) distinct class names in "
              + "\(parser.columnName(parser.labelField!)), found one more, '\(piece.names.name(id))'")
        }
      })
    return found.sorted()
  }

  /// The first line of the file at `path` and the next line after it that
  /// is not blank, with its 1-based number; nil for an empty file. Reads no
  /// further than those lines need.
  static func firstLines(of path: String) throws(IngestError) -> (
    first: [UInt8], next: (text: [UInt8], line: Int)?
  )? {
    let file = try openInput(path)
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 64)
    defer { chunk.deallocate() }
    var bytes: [UInt8] = []
    var atEnd = false
    while true {
      // Lines complete so far: each ends at a newline, or at the end of the file.
      var lines: [ArraySlice<UInt8>] = []
      var start = 0
      for (index, byte) in bytes.enumerated() where byte == 0x0A {
        lines.append(bytes[start..<index])
        start = index + 1
      }
      if atEnd, start < bytes.count { lines.append(bytes[start...]) }
      if let first = lines.first {
        let blank: (ArraySlice<UInt8>) -> Bool = { $0.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } }
        if let next = lines.dropFirst().firstIndex(where: { !blank($0) }) {
          return (Array(first), (Array(lines[next]), next + 1))
        }
        if atEnd { return (Array(first), nil) }
      } else if atEnd {
        return nil
      }
      let count: Int
      do { count = try file.read(into: chunk) } catch { throw .dataset(error) }
      atEnd = count == 0
      bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
    }
  }

  /// Copies the rows of the `.sds` file at `path` into `sink`.
  public static func readSDS(_ path: String, into sink: RowSink) throws(IngestError) -> ConversionSummary {
    let dataset: Dataset
    let rows: RowBlock
    do {
      dataset = try Dataset(path: path)
      rows = try dataset.checkedRows(threads: ProcessInfoCores.count).block
    } catch { throw .dataset(error) }
    if let names = dataset.classNames {
      do { try sink.setClassNames(names) } catch { throw .dataset(error) }
    }
    // The batches get the dataset's zero labels as placeholders.
    if !dataset.hasLabels { try setUnlabelled(sink) }
    let step = 65_536
    for first in stride(from: 0, to: rows.count, by: step) {
      let block = rows.slice(first..<min(first + step, rows.count))
      var batch = RowBatch(layout: block.layout, columns: block.layout == .dense ? block.columns : 0)
      batch.labels = Array(UnsafeBufferPointer(start: block.labels, count: block.count))
      if let weights = block.weights {
        batch.weights = Array(UnsafeBufferPointer(start: weights, count: block.count))
      }
      batch.values = Array(UnsafeBufferPointer(start: block.features, count: block.nonZeros))
      if block.layout == .csr {
        batch.indices = Array(UnsafeBufferPointer(start: block.indices, count: block.nonZeros))
        batch.rowLengths = (0..<block.count).map { Int32(block.offsets[$0 + 1] - block.offsets[$0]) }
      }
      do { try sink.append(batch) } catch { throw .dataset(error) }
    }
    do { try sink.finish(columns: dataset.header.columns, labelKind: dataset.header.labelKind) } catch {
      throw .dataset(error)
    }
    return ConversionSummary(
      rows: rows.count, columns: rows.columns, nonZeros: rows.nonZeros, layout: rows.layout,
      labelKind: dataset.header.labelKind, inputBytes: dataset.file.bytes.count,
      classNames: dataset.classNames)
  }

  /// Converts `input` to `output`, each format from its extension unless
  /// given: text or NumPy to `.sds`, `.sds` to text, or text to text. The
  /// output appears only when complete; on any error no file is written and
  /// an existing `output` is left as it was.
  public static func convert(
    input: String, output: String, format: DataFormat? = nil, libsvm: LIBSVMOptions = LIBSVMOptions(),
    csv: CSVOptions = CSVOptions(), npyLabels: String? = nil, settings: IngestSettings = IngestSettings()
  ) throws(IngestError) -> ConversionSummary {
    guard let inputFormat = format ?? DataFormat(path: input) else {
      throw .invalidOptions(
        "cannot tell the format of \(input) from its extension: expected .svm, .libsvm, .txt, .csv, .npy "
          + "or .sds, or give --format")
    }
    guard let outputFormat = DataFormat(path: output), outputFormat != .npy else {
      throw .invalidOptions(
        "cannot tell what to write to \(output): expected a name ending in .sds, .svm or .csv")
    }
    let layout: Layout
    switch inputFormat {
    case .libsvm: layout = .csr
    case .csv, .npy: layout = .dense
    case .sds:
      do { layout = try Dataset(path: input).header.layout } catch { throw .dataset(error) }
    }
    let sink: RowSink
    do {
      switch outputFormat {
      case .sds: sink = try DatasetWriter(path: output, layout: layout)
      case .csv: sink = try TextWriter(path: output, format: .csv, threads: settings.threads)
      default: sink = try TextWriter(path: output, format: .libsvm, threads: settings.threads)
      }
    } catch { throw .dataset(error) }
    switch inputFormat {
    case .libsvm: return try readLIBSVM(input, into: sink, options: libsvm, settings: settings)
    case .csv: return try readCSV(input, into: sink, options: csv, settings: settings)
    case .npy: return try readNPY(input, labels: npyLabels, into: sink, labelKind: csv.labelKind)
    case .sds: return try readSDS(input, into: sink)
    }
  }

  /// Refuses a text input whose first bytes are gzip's magic number, with
  /// what to do, rather than a parse error about binary bytes.
  static func refuseCompressed(_ firstLine: UnsafeRawBufferPointer, path: String) throws(IngestError) {
    guard firstLine.count >= 2, firstLine[0] == 0x1F, firstLine[1] == 0x8B else { return }
    throw .malformed(
      path: path, line: 1, message: "expected text, found gzip-compressed data; decompress it first (gunzip)")
  }

  /// Tells `sink` that the rows have no labels.
  static func setUnlabelled(_ sink: RowSink) throws(IngestError) {
    do { try sink.setUnlabelled() } catch { throw .dataset(error) }
  }

  static func openInput(_ path: String) throws(IngestError) -> ReadableFile {
    do { return try ReadableFile(path: path) } catch { throw .dataset(error) }
  }

  /// The shared text path: parse in parallel, check, stream into `sink`.
  private static func readText<Parser: LineParser>(
    _ file: ReadableFile, into sink: RowSink, layout: Layout, labelKind: LabelKind?, features: Int?,
    settings: IngestSettings, makeParser: (UnsafeRawBufferPointer) throws(IngestError) -> (Parser, Bool)
  ) throws(IngestError) -> ConversionSummary {
    var labels = LabelSummary()
    var maxIndex: Int32 = -1
    var rows = 0
    var nonZeros = 0
    var columns = 0
    var lines = 0
    try readInParallel(
      file, settings: settings,
      firstLine: { (line: UnsafeRawBufferPointer?) throws(IngestError) -> (Parser, skip: Bool) in
        guard let line else {
          throw .malformed(
            path: file.path, line: 1, message: "expected at least one row, found an empty file")
        }
        try refuseCompressed(line, path: file.path)
        let (parser, skip) = try makeParser(line)
        return (parser, skip)
      },
      consume: { (piece: ParsedPiece, first: Int) throws(IngestError) in
        labels.merge(piece.labels)
        maxIndex = max(maxIndex, piece.maxIndex)
        rows += piece.batch.rowCount
        nonZeros += piece.batch.values.count
        lines = first + piece.lines - 1
        if layout == .dense { columns = piece.batch.columns }
        guard piece.batch.rowCount > 0 else { return }
        do throws(DatasetError) { try sink.append(piece.batch) } catch { throw .dataset(error) }
      })
    guard rows > 0 else {
      throw .malformed(
        path: file.path, line: max(lines, 1),
        message: "expected at least one row, found only comments, blank lines or a header")
    }
    if layout == .csr { columns = features ?? Int(maxIndex) + 1 }
    let kind = labelKind ?? labels.detected
    if let problem = labels.check(kind) { throw .invalidOptions("\(file.path): \(problem)") }
    do { try sink.finish(columns: columns, labelKind: kind) } catch { throw .dataset(error) }
    return ConversionSummary(
      rows: rows, columns: columns, nonZeros: nonZeros, layout: layout, labelKind: kind, inputBytes: file.size
    )
  }
}
