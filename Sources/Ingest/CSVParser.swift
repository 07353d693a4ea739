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

/// Options for CSV text (dense rows, one label column, or none).
public struct CSVOptions: Sendable, Equatable {
  /// Whether the first line is a header: `nil` to detect. The first line is
  /// a header when every field other than the label is text (not a number
  /// and not a missing value); numbers with some text among them are a data
  /// row with a typo, reported with its line; when only its label is text, it is a header if the
  /// next line's label is a number, and otherwise the first row of a file
  /// whose labels are class names. (The label here is `--label-column`'s
  /// index, else the last field.)
  public var header: Bool?
  /// The label column. Default: one named label, target, y or class (any
  /// case) if there is a header, otherwise the last column.
  public var labelColumn: ColumnSelector?
  /// The field separator byte.
  public var delimiter: UInt8 = UInt8(ascii: ",")
  /// The value for missing fields (empty, NA, NaN, null). Default: missing
  /// fields are an error.
  public var fill: Float?
  /// What the labels mean. Default: detected. Labels that are names (text,
  /// such as `setosa`) are always class labels. `LabelKind.none`: there is
  /// no label column, every column is a feature (what `--no-labels` says);
  /// ``labelColumn`` must then be nil.
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
/// ignored; the label field is either a number in every row or a class name
/// in every row (``labelsAreNames``), never some of each. Quoted fields may
/// not contain the delimiter or a newline. Blank lines are skipped.
struct CSVLineParser: LineParser {
  let options: CSVOptions
  /// Fields per line.
  let fieldCount: Int
  /// The label's field; nil without labels (label kind none).
  let labelField: Int?
  /// Features per row: every field but the label.
  var featureCount: Int { labelField == nil ? fieldCount : fieldCount - 1 }
  /// Column names, for messages (empty without a header).
  let names: [String]
  /// Whether labels are class names (the first row's label is text).
  let labelsAreNames: Bool
  /// With ``labelsAreNames``: every class name, numbered by class id. The
  /// label pass (``CSVLabelCollector``) finds them before the rows are read.
  var classes = NameTable()

  /// Settles the header, the width, the label column and whether labels are
  /// names from the first line and the next line after it that is not blank
  /// (`next`, with its line number); see ``CSVOptions/header`` for the rule.
  static func make(
    firstLine: UnsafeRawBufferPointer, next: (text: UnsafeRawBufferPointer, line: Int)?, options: CSVOptions,
    path: String
  ) throws(IngestError) -> (parser: Self, skip: Bool) {
    try Importer.refuseCompressed(firstLine, path: path)
    if let fill = options.fill, !fill.isFinite {
      throw .invalidOptions(
        "--fill must be a finite number (got \(fill)): the datasets hold finite values only")
    }
    let labelled = options.labelKind != LabelKind.none
    if !labelled, let column = options.labelColumn {
      let name: String
      switch column {
      case .index(let index): name = "\(index)"
      case .name(let text): name = text
      }
      throw .invalidOptions(
        "--label-column \(name) names a label column, but --no-labels (label kind none) says there is none; "
          + "give one or the other")
    }
    let fields = splitFields(withoutByteOrderMark(firstLine), delimiter: options.delimiter)
    let isHeader: Bool
    if let header = options.header {
      isHeader = header
    } else if case .name(let name) = options.labelColumn, fields.contains(where: { $0.text == name }) {
      isHeader = true
    } else if !labelled {
      // Every field a feature: a header when they are all text.
      isHeader = fields.allSatisfy { isText($0.bytes) }
    } else {
      var label = fields.count - 1
      if case .index(let index) = options.labelColumn, index >= 0, index < fields.count { label = index }
      let others = fields.indices.filter { $0 != label }
      if !others.isEmpty, others.allSatisfy({ isText(fields[$0].bytes) }) {
        isHeader = true
      } else if others.contains(where: { isText(fields[$0].bytes) }) {
        // Numbers and some text among the features: a data row with a typo, which its line reports.
        isHeader = false
      } else if isText(fields[label].bytes) {
        // Numbers and a text label: a header over numeric labels, or the
        // first row of name labels. The next line's label tells them apart.
        let nextFields = next.map { splitFields($0.text, delimiter: options.delimiter) } ?? []
        isHeader = label < nextFields.count && isNumber(nextFields[label].bytes)
      } else {
        isHeader = false
      }
    }
    let names = isHeader ? fields.map(\.text) : []
    let labelField: Int?
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
    case nil where !labelled:
      labelField = nil
    case nil:
      let lowercased = names.map { $0.lowercased() }
      let usual = ["label", "target", "y", "class"].lazy.compactMap { lowercased.firstIndex(of: $0) }.first
      labelField = usual ?? fields.count - 1
    }
    // A line of one field holding another common separator: say which to pass.
    let hint =
      [(UInt8(ascii: ";"), ";"), (UInt8(ascii: "\t"), "\\t"), (UInt8(ascii: "|"), "|")]
      .first { separator, _ in firstLine.contains(separator) }
      .map { "; the line holds '\($0.1)', so try --delimiter '\($0.1)'" } ?? ""
    guard fields.count >= 2 || !labelled else {
      throw .malformed(
        path: path, line: 1,
        message: "expected at least 2 fields (features and a label), found \(fields.count)\(hint)")
    }
    // Without labels one field is a feature, unless it is text holding another separator.
    guard fields.count >= 2 || hint.isEmpty || !isText(fields[0].bytes) else {
      throw .malformed(
        path: path, line: 1,
        message: "expected features separated by '\(Unicode.Scalar(options.delimiter))', found 1 field\(hint)"
      )
    }
    // The first row's label says whether labels are numbers or names.
    let firstRow = isHeader ? next : (firstLine, 1)
    let rowFields = firstRow.map { splitFields($0.text, delimiter: options.delimiter) } ?? []
    let labelsAreNames = labelField.map { $0 < rowFields.count && isText(rowFields[$0].bytes) } ?? false
    let parser = CSVLineParser(
      options: options, fieldCount: fields.count, labelField: labelField, names: names,
      labelsAreNames: labelsAreNames)
    if labelsAreNames, let labelField, let kind = options.labelKind, kind != .classIndex, let firstRow {
      throw .malformed(
        path: path, line: firstRow.line,
        message:
          "expected a number as the label in \(parser.columnName(labelField)) for --label-kind \(kind), "
          + "found the class name \(quoted(rowFields[labelField].bytes)); labels that are names are "
          + "class labels (--label-kind class)")
    }
    return (parser, isHeader)
  }

  /// ``make(firstLine:next:options:path:)`` for a caller that has only the
  /// first line (the fuzz target): a first line whose only text is its label
  /// is then a row, and name labels find no names until ``classes`` is set.
  static func make(firstLine: UnsafeRawBufferPointer, options: CSVOptions, path: String) throws(IngestError)
    -> (parser: Self, skip: Bool)
  {
    try make(firstLine: firstLine, next: nil, options: options, path: path)
  }

  func parse(_ text: UnsafeRawBufferPointer) -> ParsedPiece {
    var piece = ParsedPiece(batch: RowBatch(layout: .dense, columns: featureCount))
    piece.batch.values.reserveCapacity(text.count / 4)
    piece.parseLines(of: text, commentMarker: nil) { line, piece in parseLine(line, into: &piece) }
    return piece
  }

  /// Adds one line's row to `piece`; returns what went wrong, if anything.
  private func parseLine(_ text: UnsafeRawBufferPointer, into piece: inout ParsedPiece) -> String? {
    let line = withoutByteOrderMark(text)
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
        if field == labelField, labelsAreNames {
          guard let id = classes.id(of: bytes) else { return nameProblem(bytes) }
          label = Float(id)
        } else {
          let value: Float
          switch NumberParser.parseFloat(bytes) {
          case .success(let parsed): value = parsed
          case .failure(let problem):
            if isMissing(bytes) {
              guard field != labelField else {
                return "expected a label in \(columnName(field)), found a missing value "
                  + "(\(bytes.isEmpty ? "an empty field" : quoted(bytes))); --fill replaces missing features, "
                  + "never labels"
              }
              guard let fill = options.fill else {
                return "expected a number in \(columnName(field)), found a missing value "
                  + "(\(bytes.isEmpty ? "an empty field" : quoted(bytes))); use --fill VALUE to replace missing values"
              }
              value = fill
            } else if field == labelField, problem == .notANumber {
              return describe(problem, "a number as the label in \(columnName(field))", bytes)
                + "; the first row's label is a number, and a label column holds numbers or class names, "
                + "not both"
            } else {
              return describe(problem, "a number in \(columnName(field))", bytes)
            }
          }
          if field == labelField { label = value } else { piece.batch.values.append(value) }
        }
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
    if labelField != nil { piece.labels.add(label) }
    return nil
  }

  /// Why `bytes`, a label field that is no class name, is refused.
  private func nameProblem(_ bytes: UnsafeRawBufferPointer) -> String {
    let expected = "expected a class name in \(columnName(labelField!))"
    if isMissing(bytes) {
      return "\(expected), found a missing value (\(bytes.isEmpty ? "an empty field" : quoted(bytes)))"
    }
    if !isText(bytes) {
      return "\(expected), found the number \(quoted(bytes)); the first row's label is a name, and a "
        + "label column holds numbers or class names, not both"
    }
    if let problem = ClassNames.problem(with: bytes) {
      return "\(expected), found \(quoted(bytes)), which \(problem)"
    }
    return "\(expected), found \(quoted(bytes)), which was not there when the labels were first read: "
      + "did the file change during the conversion?"
  }

  /// "column 4 (species)" with a header, "column 4" without.
  func columnName(_ field: Int) -> String {
    names.isEmpty ? "column \(field)" : "column \(field) (\(names[field]))"
  }

  /// The label field of `line`, trimmed, or nil when the line is blank or
  /// too short. A last-column label is found from the end of the line (a
  /// line with too many fields is left to the row pass to report).
  @inline(__always)
  func labelBytes(of line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
    guard let base = line.baseAddress, let labelField else { return nil }
    if labelField == fieldCount - 1 {
      var start = line.count
      // Precondition: 0 < start ≤ line.count at each load.
      while start > 0, line[start - 1] != options.delimiter { start -= 1 }
      guard start > 0 else { return nil }
      return trimmed(UnsafeRawBufferPointer(rebasing: line[start...]))
    }
    var start = 0
    for _ in 0..<labelField {
      guard let found = memchr(base + start, Int32(options.delimiter), line.count - start) else { return nil }
      start = UnsafeRawPointer(found) - base + 1
    }
    let found = start < line.count ? memchr(base + start, Int32(options.delimiter), line.count - start) : nil
    let end = found.map { UnsafeRawPointer($0) - base } ?? line.count
    return trimmed(UnsafeRawBufferPointer(rebasing: line[start..<end]))
  }
}

/// The label pass over a CSV file whose labels are class names: collects
/// each piece's new names in the order they appear, with their lines. Rows
/// and every problem are left to the ``CSVLineParser`` pass that follows (it
/// reports them in line order); lines whose label is no valid name are
/// skipped here.
struct CSVLabelCollector: LineParser {
  /// The parser whose header, width and label column this pass uses.
  let rows: CSVLineParser

  func parse(_ text: UnsafeRawBufferPointer) -> ParsedPiece {
    var piece = ParsedPiece(batch: RowBatch(layout: .dense, columns: rows.featureCount))
    piece.parseLines(of: text, commentMarker: nil) { line, piece in
      guard let bytes = rows.labelBytes(of: line), piece.names.id(of: bytes) == nil, isText(bytes),
        ClassNames.problem(with: bytes) == nil
      else { return nil }
      piece.names.insert(bytes)
      piece.nameLines.append(piece.lines)
      return nil
    }
    return piece
  }
}

/// Whether a field holds a number.
private func isNumber(_ field: UnsafeRawBufferPointer) -> Bool {
  if case .success = NumberParser.parseFloat(field) { return true }
  return false
}

/// Whether a field holds text: not a number (finite or not) and not a
/// missing value.
private func isText(_ field: UnsafeRawBufferPointer) -> Bool {
  if case .failure(.notANumber) = NumberParser.parseFloat(field) { return !isMissing(field) }
  return false
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
func isMissing(_ field: UnsafeRawBufferPointer) -> Bool {
  if field.isEmpty { return true }
  guard field.count <= 4 else { return false }
  let word = String(decoding: field, as: UTF8.self).lowercased()
  return ["na", "nan", "null", "n/a", "none"].contains(word)
}

/// `text` without a leading UTF-8 byte order mark (EF BB BF), which some
/// editors write at the start of a file: only the first line can have one.
@inline(__always)
func withoutByteOrderMark(_ text: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
  guard text.count >= 3, text[0] == 0xEF, text[1] == 0xBB, text[2] == 0xBF else { return text }
  return UnsafeRawBufferPointer(rebasing: text[3...])
}
