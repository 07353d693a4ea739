import Dataset
import Dispatch

/// Writes rows as LIBSVM or CSV text, for inspection and round trips.
///
/// Values print in Swift's shortest form that reads back to the same Float,
/// so text → `.sds` → text → `.sds` gives identical files. Like every sink,
/// nothing appears at `path` until ``finish(columns:labelKind:)``.
///
/// When the classes have names (``setClassNames(_:)``), CSV labels are the
/// names, so they read back as the same classes; LIBSVM labels must be
/// numbers, so LIBSVM gets the class ids.
///
/// Rows without labels (``setUnlabelled()``) are written without them: CSV
/// has no label column (`x0,…,x{D-1}`), and a LIBSVM line starts with its
/// first `index:value`, as `--no-labels` reads it. A row with no stored
/// value would be a blank LIBSVM line, which reads as no row: it is refused.
public final class TextWriter: RowSink {
  /// The text formats.
  public enum Format: Sendable {
    /// `label index:value …` with 1-based indices; zeros are left out.
    /// Without labels, `index:value …`.
    case libsvm
    /// A header `x0,…,x{D-1},label`, then one line per row, label last.
    /// Without labels, no label column.
    case csv
  }

  /// The file being written.
  public let path: String
  /// The format.
  public let format: Format
  private let output: OutputFile
  private let threads: Int
  private var columns: Int?
  /// CSV: each class's name as its label field, by class id.
  private var labelFields: [[UInt8]]?
  /// Whether lines carry labels (false after ``setUnlabelled()``).
  private var labelled = true
  /// Rows written so far.
  private var rowsWritten = 0

  /// Starts writing `path` as `format`, formatting on `threads` threads.
  public init(path: String, format: Format, threads: Int = ProcessInfoCores.count) throws(DatasetError) {
    self.path = path
    self.format = format
    self.threads = max(1, threads)
    output = try OutputFile(creating: path)
  }

  /// Takes the class names, for CSV labels. A name that CSV cannot hold so
  /// that it reads back the same (one with a comma, or one that reads as a
  /// number or a missing value) is refused; one that starts or ends with a
  /// blank or a double quote is written in double quotes.
  public func setClassNames(_ names: [String]) throws(DatasetError) {
    guard format == .csv else { return }
    var fields: [[UInt8]] = []
    for name in names {
      let bytes = Array(name.utf8)
      let readsBack = bytes.withUnsafeBytes { field in
        !field.contains(UInt8(ascii: ",")) && ClassNames.problem(with: field) == nil
          && NumberParser.parseFloat(field) == .failure(.notANumber) && !isMissing(field)
      }
      guard readsBack else {
        throw .invalidRows(
          "\(path): the class name '\(name)' cannot be a CSV label that reads back as the same name; "
            + "write the class ids as LIBSVM (.svm) instead")
      }
      let quote = [0x20, 0x09, 0x22].contains(bytes.first!) || [0x20, 0x09, 0x22].contains(bytes.last!)
      fields.append(quote ? [0x22] + bytes + [0x22] : bytes)
    }
    labelFields = fields
  }

  /// Writes the rows without labels: no label column in CSV, no label token
  /// in LIBSVM. Only before the first rows.
  public func setUnlabelled() throws(DatasetError) {
    guard rowsWritten == 0, columns == nil else {
      throw .invalidRows("\(path): labels left out after rows were written")
    }
    labelled = false
  }

  /// Appends `batch`'s rows as text lines.
  public func append(_ batch: RowBatch) throws(DatasetError) {
    if format == .csv, batch.layout == .csr {
      throw .invalidRows("\(path): CSV holds dense rows; write sparse data as LIBSVM (.svm)")
    }
    if let labelFields {
      let classes = Float(labelFields.count)
      if let bad = batch.labels.first(where: { !($0 >= 0 && $0 < classes && $0 == $0.rounded()) }) {
        throw .invalidRows("\(path): label \(bad) is not a class id from 0 to \(labelFields.count - 1)")
      }
    }
    if format == .csv, columns == nil {
      columns = batch.columns
      let names = (0..<batch.columns).map { "x\($0)" } + (labelled ? ["label"] : [])
      try output.write(names.joined(separator: ",") + "\n")
    }
    var starts = [0]
    if batch.layout == .csr {
      for length in batch.rowLengths { starts.append(starts.last! + Int(length)) }
    }
    if format == .libsvm, !labelled {
      let empty = (0..<batch.rowCount).first { row in
        batch.layout == .csr
          ? starts[row] == starts[row + 1]
          : batch.values[row * batch.columns..<(row + 1) * batch.columns].allSatisfy { $0 == 0 }
      }
      if let empty {
        throw .invalidRows(
          "\(path): row \(rowsWritten + empty + 1) has no value that is not 0, and without labels its LIBSVM line "
            + "would be blank, which reads as no row; write .csv or .sds instead")
      }
    }
    let pieces = min(threads, max(1, batch.rowCount / 1024))
    let texts = UnsafeMutableBufferPointer<[UInt8]>.allocate(capacity: pieces)
    texts.initialize(repeating: [])
    defer {
      texts.deinitialize()
      texts.deallocate()
    }
    let shared = UncheckedSendable(value: texts)
    let rows = batch.rowCount
    let format = format
    let starting = starts
    let labelFields = labelFields
    let labelled = labelled
    // Each iteration formats its own rows into its own slot.
    DispatchQueue.concurrentPerform(iterations: pieces) { piece in
      var text: [UInt8] = []
      for row in rows * piece / pieces..<rows * (piece + 1) / pieces {
        appendLine(
          row, of: batch, format: format, starts: starting, labelled: labelled, labelFields: labelFields,
          to: &text)
      }
      shared.value[piece] = text
    }
    for text in texts { try output.write(text) }
    rowsWritten += batch.rowCount
  }

  /// Flushes, syncs and names the file. `labelKind` must be none exactly
  /// when ``setUnlabelled()`` was called.
  public func finish(columns: Int, labelKind: LabelKind) throws(DatasetError) {
    guard labelled == (labelKind != LabelKind.none) else {
      throw .invalidRows(
        "\(path): rows written \(labelled ? "with" : "without") labels cannot end as label kind \(labelKind)")
    }
    try output.commit()
  }
}

/// One row as a text line; without its label unless `labelled`.
private func appendLine(
  _ row: Int, of batch: RowBatch, format: TextWriter.Format, starts: [Int], labelled: Bool,
  labelFields: [[UInt8]]?, to text: inout [UInt8]
) {
  let label = batch.labels[row]
  let labelText = label == label.rounded() && abs(label) < 1e7 ? String(Int(label)) : label.description
  if format == .libsvm, labelled { text.append(contentsOf: labelText.utf8) }
  // LIBSVM: a blank before each index:value but an unlabelled line's first.
  var blank = labelled
  switch batch.layout {
  case .csr:
    for entry in starts[row]..<starts[row + 1] {
      if blank { text.append(0x20) }
      blank = true
      // In Int: the index 2³¹ − 1 is a valid column, and one more overflows Int32.
      text.append(contentsOf: String(Int(batch.indices[entry]) + 1).utf8)
      text.append(UInt8(ascii: ":"))
      text.append(contentsOf: shortest(batch.values[entry]).utf8)
    }
  case .dense:
    let values = batch.values[row * batch.columns..<(row + 1) * batch.columns]
    for (column, value) in values.enumerated() {
      if format == .libsvm {
        guard value != 0 else { continue }
        if blank { text.append(0x20) }
        blank = true
        text.append(contentsOf: String(column + 1).utf8)
        text.append(UInt8(ascii: ":"))
      }
      text.append(contentsOf: shortest(value).utf8)
      if format == .csv { text.append(UInt8(ascii: ",")) }
    }
  }
  if format == .csv, !labelled {
    if batch.columns > 0 { text.removeLast() }  // the comma after the last value
  } else if format == .csv {
    if let labelFields {
      text.append(contentsOf: labelFields[Int(label)])
    } else {
      text.append(contentsOf: labelText.utf8)
    }
  }
  text.append(0x0A)
}

/// 1.0 → "1", 0.5 → "0.5": the shortest text that reads back to `value`.
private func shortest(_ value: Float) -> String {
  let text = value.description
  return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
}
