import Dataset

#if canImport(Glibc)
  import Glibc
#endif

/// Which CSV column holds the labels.
public enum ColumnSelector: Sendable, Equatable {
  /// The column at this 0-based position.
  case index(Int)
  /// The column with this header name.
  case name(String)

  /// Reads "3" as an index and anything else as a name.
  public init(_ text: String) {
    if let index = Int(text) { self = .index(index) } else { self = .name(text) }
  }
}

/// Options for CSV text (dense rows, one label column).
public struct CSVOptions: Sendable, Equatable {
  /// Whether the first line is a header: `nil` to detect (a header is a
  /// first line with a field that is not a number).
  public var header: Bool?
  /// The label column. Default: one named label, target, y or class (any
  /// case) if there is a header, otherwise the last column.
  public var labelColumn: ColumnSelector?
  /// The field separator byte.
  public var delimiter: UInt8 = UInt8(ascii: ",")
  /// The value for missing fields (empty, NA, NaN, null). Default: missing
  /// fields are an error.
  public var fill: Float?
  /// What the labels mean. Default: detected.
  public var labelKind: LabelKind?

  /// Options with everything detected and `,` as the separator.
  public init(
    header: Bool? = nil, labelColumn: ColumnSelector? = nil, delimiter: UInt8 = UInt8(ascii: ","),
    fill: Float? = nil, labelKind: LabelKind? = nil
  ) {
    self.header = header
    self.labelColumn = labelColumn
    self.delimiter = delimiter
    self.fill = fill
    self.labelKind = labelKind
  }
}

/// Parses CSV lines of a known width into dense rows.
///
/// Fields are numbers, optionally in double quotes, with blanks around them
/// ignored. Quoted fields may not contain the delimiter or a newline. Blank
/// lines are skipped.
struct CSVLineParser: LineParser {
  let options: CSVOptions
  /// Fields per line.
  let fieldCount: Int
  /// The label's field.
  let labelField: Int
  /// Column names, for messages (empty without a header).
  let names: [String]

  /// Reads the first line to settle the header, the width and the label column.
  static func make(firstLine: UnsafeRawBufferPointer, options: CSVOptions, path: String) throws(IngestError)
    -> (Self, skip: Bool)
  {
    let fields = splitFields(firstLine, delimiter: options.delimiter)
    let isHeader =
      options.header
      ?? fields.contains { field in
        if case .failure(let problem) = NumberParser.parseFloat(field.bytes), problem != .notFinite {
          return !isMissing(field.bytes)
        }
        return false
      }
    let names = isHeader ? fields.map(\.text) : []
    let labelField: Int
    switch options.labelColumn {
    case .index(let index):
      guard index >= 0, index < fields.count else {
        throw .invalidOptions(
          "--label-column \(index): expected a column index from 0 to \(fields.count - 1), "
            + "found \(fields.count) columns in \(path)")
      }
      labelField = index
    case .name(let name):
      guard isHeader else {
        throw .invalidOptions("--label-column \(name): \(path) has no header row to find a column name in")
      }
      guard let index = names.firstIndex(of: name) else {
        throw .invalidOptions(
          "--label-column \(name): expected one of the header's columns (\(names.joined(separator: ", "))), "
            + "found no column named \(name)")
      }
      labelField = index
    case nil:
      let lowercased = names.map { $0.lowercased() }
      let usual = ["label", "target", "y", "class"].lazy.compactMap { lowercased.firstIndex(of: $0) }.first
      labelField = usual ?? fields.count - 1
    }
    guard fields.count >= 2 else {
      throw .malformed(
        path: path, line: 1,
        message: "expected at least 2 fields (features and a label), found \(fields.count)")
    }
    return (
      CSVLineParser(options: options, fieldCount: fields.count, labelField: labelField, names: names),
      isHeader
    )
  }

  func parse(_ text: UnsafeRawBufferPointer) -> ParsedPiece {
    var piece = ParsedPiece(batch: RowBatch(layout: .dense, columns: fieldCount - 1))
    piece.batch.values.reserveCapacity(text.count / 4)
    piece.parseLines(of: text, commentMarker: nil) { line, piece in parseLine(line, into: &piece) }
    return piece
  }

  /// Adds one line's row to `piece`; returns what went wrong, if anything.
  private func parseLine(_ line: UnsafeRawBufferPointer, into piece: inout ParsedPiece) -> String? {
    guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return nil }
    var label: Float = 0
    var field = 0
    var start = 0
    let base = line.baseAddress!
    while true {
      let found =
        start < line.count ? memchr(base + start, Int32(options.delimiter), line.count - start) : nil
      let end = found.map { UnsafeRawPointer($0) - base } ?? line.count
      if field < fieldCount {
        let bytes = trimmed(UnsafeRawBufferPointer(rebasing: line[start..<end]))
        let value: Float
        switch NumberParser.parseFloat(bytes) {
        case .success(let parsed): value = parsed
        case .failure(let problem):
          if isMissing(bytes) {
            guard let fill = options.fill else {
              return "expected a number in \(columnName(field)), found a missing value "
                + "(\(bytes.isEmpty ? "an empty field" : quoted(bytes))); use --fill VALUE to replace missing values"
            }
            value = fill
          } else {
            return describe(problem, "a number in \(columnName(field))", bytes)
          }
        }
        if field == labelField { label = value } else { piece.batch.values.append(value) }
      }
      field += 1
      guard found != nil else { break }
      start = end + 1
    }
    guard field == fieldCount else {
      return "expected \(fieldCount) fields (as in the first line), found \(field)"
    }
    if let kind = options.labelKind, let problem = labelProblem(label, kind) { return problem }
    piece.batch.labels.append(label)
    piece.labels.add(label)
    return nil
  }

  private func columnName(_ field: Int) -> String {
    names.isEmpty ? "column \(field)" : "column \(field) (\(names[field]))"
  }
}

/// One field of a line, for the header pass.
private struct Field {
  var bytes: UnsafeRawBufferPointer
  var text: String { String(decoding: bytes, as: UTF8.self) }
}

private func splitFields(_ line: UnsafeRawBufferPointer, delimiter: UInt8) -> [Field] {
  line.split(separator: delimiter, omittingEmptySubsequences: false).map {
    Field(bytes: trimmed(UnsafeRawBufferPointer(rebasing: $0)))
  }
}

/// The field without surrounding blanks, carriage return or double quotes.
@inline(__always)
private func trimmed(_ field: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
  var start = 0
  var end = field.count
  // Precondition: 0 ≤ start < end ≤ field.count at each load.
  while start < end, field[start] == 0x20 || field[start] == 0x09 { start += 1 }
  while end > start, field[end - 1] == 0x20 || field[end - 1] == 0x09 || field[end - 1] == 0x0D { end -= 1 }
  if end - start >= 2, field[start] == 0x22, field[end - 1] == 0x22 {
    start += 1
    end -= 1
  }
  return UnsafeRawBufferPointer(rebasing: field[start..<end])
}

/// Empty, NA, NaN, nan, null, N/A: what spreadsheets and pandas write for a missing value.
private func isMissing(_ field: UnsafeRawBufferPointer) -> Bool {
  if field.isEmpty { return true }
  guard field.count <= 4 else { return false }
  let word = String(decoding: field, as: UTF8.self).lowercased()
  return ["na", "nan", "null", "n/a", "none"].contains(word)
}
