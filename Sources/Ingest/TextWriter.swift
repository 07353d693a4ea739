import Dataset
import Dispatch

/// Writes rows as LIBSVM or CSV text, for inspection and round trips.
///
/// Values print in Swift's shortest form that reads back to the same Float,
/// so text → `.sds` → text → `.sds` gives identical files. Like every sink,
/// nothing appears at `path` until ``finish(columns:labelKind:)``.
public final class TextWriter: RowSink {
  /// The text formats.
  public enum Format: Sendable {
    /// `label index:value …` with 1-based indices; zeros are left out.
    case libsvm
    /// A header `x0,…,x{D-1},label`, then one line per row, label last.
    case csv
  }

  /// The file being written.
  public let path: String
  /// The format.
  public let format: Format
  private let output: OutputFile
  private let threads: Int
  private var columns: Int?

  /// Starts writing `path` as `format`, formatting on `threads` threads.
  public init(path: String, format: Format, threads: Int = ProcessInfoCores.count) throws(DatasetError) {
    self.path = path
    self.format = format
    self.threads = max(1, threads)
    output = try OutputFile(creating: path)
  }

  /// Appends `batch`'s rows as text lines.
  public func append(_ batch: RowBatch) throws(DatasetError) {
    if format == .csv, batch.layout == .csr {
      throw .invalidRows("\(path): CSV holds dense rows; write sparse data as LIBSVM (.svm)")
    }
    if format == .csv, columns == nil {
      columns = batch.columns
      try output.write((0..<batch.columns).map { "x\($0)," }.joined() + "label\n")
    }
    var starts = [0]
    if batch.layout == .csr {
      for length in batch.rowLengths { starts.append(starts.last! + Int(length)) }
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
    // Each iteration formats its own rows into its own slot.
    DispatchQueue.concurrentPerform(iterations: pieces) { piece in
      var text: [UInt8] = []
      for row in rows * piece / pieces..<rows * (piece + 1) / pieces {
        appendLine(row, of: batch, format: format, starts: starting, to: &text)
      }
      shared.value[piece] = text
    }
    for text in texts { try output.write(text) }
  }

  /// Flushes, syncs and names the file.
  public func finish(columns: Int, labelKind: LabelKind) throws(DatasetError) {
    try output.commit()
  }
}

/// One row as a text line.
private func appendLine(
  _ row: Int, of batch: RowBatch, format: TextWriter.Format, starts: [Int], to text: inout [UInt8]
) {
  let label = batch.labels[row]
  let labelText = label == label.rounded() && abs(label) < 1e7 ? String(Int(label)) : label.description
  if format == .libsvm { text.append(contentsOf: labelText.utf8) }
  switch batch.layout {
  case .csr:
    for entry in starts[row]..<starts[row + 1] {
      text.append(0x20)
      text.append(contentsOf: String(batch.indices[entry] + 1).utf8)
      text.append(UInt8(ascii: ":"))
      text.append(contentsOf: shortest(batch.values[entry]).utf8)
    }
  case .dense:
    let values = batch.values[row * batch.columns..<(row + 1) * batch.columns]
    for (column, value) in values.enumerated() {
      if format == .libsvm {
        guard value != 0 else { continue }
        text.append(0x20)
        text.append(contentsOf: String(column + 1).utf8)
        text.append(UInt8(ascii: ":"))
      }
      text.append(contentsOf: shortest(value).utf8)
      if format == .csv { text.append(UInt8(ascii: ",")) }
    }
  }
  if format == .csv { text.append(contentsOf: labelText.utf8) }
  text.append(0x0A)
}

/// 1.0 → "1", 0.5 → "0.5": the shortest text that reads back to `value`.
private func shortest(_ value: Float) -> String {
  let text = value.description
  return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
}
