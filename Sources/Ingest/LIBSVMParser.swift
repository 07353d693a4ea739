import Dataset

#if canImport(Glibc)
  import Glibc
#endif

/// Options for LIBSVM / SVMlight text: `label index:value index:value … # comment`,
/// or `index:value index:value …` without labels (label kind none).
public struct LIBSVMOptions: Sendable, Equatable {
  /// Indices in the file start at 0 rather than 1.
  public var zeroBased = false
  /// The number of features; indices at or past it are an error. Default:
  /// the largest index seen, plus one.
  public var features: Int?
  /// What the labels mean. Default: detected (see ``LabelKind``).
  /// `LabelKind.none`: lines have no label and start with their first
  /// `index:value` (what `--no-labels` says).
  public var labelKind: LabelKind?

  /// Default options: 1-based indices, features and label kind from the data.
  public init(zeroBased: Bool = false, features: Int? = nil, labelKind: LabelKind? = nil) {
    self.zeroBased = zeroBased
    self.features = features
    self.labelKind = labelKind
  }
}

/// Parses LIBSVM lines into CSR rows.
///
/// Grammar per line: optional blanks, a label (a number; none for label kind
/// none, whose rows get the placeholder 0), then `index:value`
/// pairs separated by spaces or tabs; `qid:N` is accepted and ignored;
/// everything after `#` is a comment; blank and comment-only lines are
/// skipped. Indices are sorted within a row; a repeated index is an error.
struct LIBSVMLineParser: LineParser {
  let options: LIBSVMOptions

  func parse(_ text: UnsafeRawBufferPointer) -> ParsedPiece {
    var piece = ParsedPiece(batch: RowBatch(layout: .csr))
    piece.batch.values.reserveCapacity(text.count / 8)
    piece.batch.indices.reserveCapacity(text.count / 8)
    piece.batch.labels.reserveCapacity(text.count / 256)
    piece.batch.rowLengths.reserveCapacity(text.count / 256)
    piece.parseLines(of: text, commentMarker: UInt8(ascii: "#")) { line, piece in
      parseLine(line, into: &piece)
    }
    return piece
  }

  /// Adds one line's row to `piece`; returns what went wrong, if anything.
  @inline(__always)
  private func parseLine(_ line: UnsafeRawBufferPointer, into piece: inout ParsedPiece) -> String? {
    var position = 0
    let count = line.count
    // Precondition for every scan below: position ≤ count before each load.
    @inline(__always) func skipBlanks() {
      while position < count, line[position] == 0x20 || line[position] == 0x09 || line[position] == 0x0D {
        position &+= 1
      }
    }
    @inline(__always) func token() -> UnsafeRawBufferPointer {
      let start = position
      while position < count, line[position] != 0x20, line[position] != 0x09, line[position] != 0x0D {
        position &+= 1
      }
      return UnsafeRawBufferPointer(rebasing: line[start..<position])
    }
    skipBlanks()
    guard position < count else { return nil }
    let labelled = options.labelKind != LabelKind.none
    var label: Float = 0
    if labelled {
      let labelToken = token()
      switch NumberParser.parseFloat(labelToken) {
      case .success(let value): label = value
      case .failure(let problem): return describe(problem, "a label (a number)", labelToken)
      }
      if let kind = options.labelKind, let problem = labelProblem(label, kind) { return problem }
    }
    let firstValue = piece.batch.values.count
    var previous = -1
    var sorted = true
    while true {
      skipBlanks()
      guard position < count else { break }
      let pair = token()
      guard let colon = pair.firstIndex(of: UInt8(ascii: ":")) else {
        let note = labelled ? "" : " (--no-labels: a line has no label, only index:value pairs)"
        return "expected index:value\(note), found \(quoted(pair))"
      }
      let key = UnsafeRawBufferPointer(rebasing: pair[..<colon])
      let valueText = UnsafeRawBufferPointer(rebasing: pair[(colon + 1)...])
      if key.elementsEqual("qid".utf8) {
        guard NumberParser.parseInteger(valueText) != nil else {
          return "expected a whole number after qid:, found \(quoted(valueText))"
        }
        continue
      }
      guard let written = NumberParser.parseInteger(key) else {
        return "expected a feature index (a whole number) before ':', found \(quoted(key))"
      }
      let index = options.zeroBased ? written : written - 1
      guard index >= 0 else {
        return options.zeroBased
          ? "expected a feature index ≥ 0, found \(written)"
          : "expected a feature index ≥ 1 (indices are 1-based; use --zero-based for 0-based files), found \(written)"
      }
      if let features = options.features, index >= features {
        return "expected a feature index below \(features + (options.zeroBased ? 0 : 1)) "
          + "(--features \(features)), found \(written)"
      }
      guard index <= Int(Int32.max) else { return "expected a feature index below 2^31, found \(written)" }
      let value: Float
      switch NumberParser.parseFloat(valueText) {
      case .success(let parsed): value = parsed
      case .failure(let problem):
        return describe(problem, "a feature value (a number) after \(written):", valueText)
      }
      if index == previous { return "expected each feature index once per row, found \(written) twice" }
      if index < previous { sorted = false }
      previous = index
      piece.batch.indices.append(Int32(truncatingIfNeeded: index))
      piece.batch.values.append(value)
    }
    if !sorted, let problem = sortRow(from: firstValue, &piece.batch) { return problem }
    if let last = piece.batch.indices.last, piece.batch.values.count > firstValue {
      piece.maxIndex = max(piece.maxIndex, last)
    }
    piece.batch.labels.append(label)
    piece.batch.rowLengths.append(Int32(piece.batch.values.count - firstValue))
    if labelled { piece.labels.add(label) }
    return nil
  }

  /// Sorts the row that starts at `first` by index; reports a repeated index.
  private func sortRow(from first: Int, _ batch: inout RowBatch) -> String? {
    var pairs = Array(zip(batch.indices[first...], batch.values[first...]))
    pairs.sort { $0.0 < $1.0 }
    for (offset, pair) in pairs.enumerated() {
      if offset > 0, pairs[offset - 1].0 == pair.0 {
        let written = Int(pair.0) + (options.zeroBased ? 0 : 1)
        return "expected each feature index once per row, found \(written) twice"
      }
      batch.indices[first + offset] = pair.0
      batch.values[first + offset] = pair.1
    }
    return nil
  }
}

/// "expected …, found …" for a token that is not an acceptable number.
func describe(_ problem: NumberProblem, _ expected: String, _ token: UnsafeRawBufferPointer) -> String {
  switch problem {
  case .notANumber: "expected \(expected), found \(token.isEmpty ? "nothing" : quoted(token))"
  case .notFinite: "expected \(expected), found \(quoted(token)): NaN and infinity are not allowed"
  case .outOfRange: "expected \(expected) within Float32 range (±3.4e38), found \(quoted(token))"
  }
}

/// Why `label` cannot be of `kind`, if it cannot.
func labelProblem(_ label: Float, _ kind: LabelKind) -> String? {
  switch kind {
  case .real, .none: return nil
  case .binary:
    return label == 1 || label == -1 || label == 0
      ? nil : "expected a binary label (-1, +1, 0 or 1), found \(label)"
  case .classIndex:
    return label >= 0 && label == label.rounded()
      ? nil : "expected a class label (a whole number ≥ 0), found \(label)"
  }
}
