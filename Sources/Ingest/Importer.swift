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
}

/// Reading LIBSVM, CSV, NumPy and `.sds` files into any ``RowSink``.
///
/// ```swift
/// let summary = try Importer.convert(input: "train.svm", output: "train.sds")
/// ```
public enum Importer {
  /// Reads LIBSVM text at `path` into `sink` (CSR rows), in parallel.
  public static func readLIBSVM(
    _ path: String, into sink: RowSink, options: LIBSVMOptions = LIBSVMOptions(),
    settings: IngestSettings = IngestSettings()
  ) throws(IngestError) -> ConversionSummary {
    let file = try openInput(path)
    let parser = LIBSVMLineParser(options: options)
    return try readText(
      file, into: sink, layout: .csr, labelKind: options.labelKind, features: options.features,
      settings: settings
    ) { (line: UnsafeRawBufferPointer) throws(IngestError) in (parser, false) }
  }

  /// Reads CSV text at `path` into `sink` (dense rows), in parallel.
  public static func readCSV(
    _ path: String, into sink: RowSink, options: CSVOptions = CSVOptions(),
    settings: IngestSettings = IngestSettings()
  ) throws(IngestError) -> ConversionSummary {
    let file = try openInput(path)
    return try readText(
      file, into: sink, layout: .dense, labelKind: options.labelKind, features: nil, settings: settings
    ) { (line: UnsafeRawBufferPointer) throws(IngestError) in
      try CSVLineParser.make(firstLine: line, options: options, path: path)
    }
  }

  /// Copies the rows of the `.sds` file at `path` into `sink`.
  public static func readSDS(_ path: String, into sink: RowSink) throws(IngestError) -> ConversionSummary {
    let dataset: Dataset
    do { dataset = try Dataset(path: path) } catch { throw .dataset(error) }
    let rows = dataset.rows
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
      labelKind: dataset.header.labelKind, inputBytes: dataset.file.bytes.count)
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
