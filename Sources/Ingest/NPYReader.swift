import Dataset

/// The parts of a NumPy `.npy` header Sounder needs.
struct NPYHeader: Equatable {
  /// Element type: "f4", "f8", "i4" or "i8" (little-endian).
  var type: String
  /// Array dimensions.
  var shape: [Int]
  /// Where the data starts.
  var dataOffset: Int

  /// Bytes per element.
  var elementSize: Int { type.hasSuffix("8") ? 8 : 4 }

  /// Reads the header of the `.npy` file in `bytes`, named `path`.
  ///
  /// Layout: `\x93NUMPY`, major and minor version bytes, the header length
  /// (2 bytes little-endian in version 1, 4 in versions 2 and 3), then a
  /// Python dict literal with `descr`, `fortran_order` and `shape`.
  static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws(IngestError) -> NPYHeader {
    func fail(_ message: String) -> IngestError { .malformed(path: path, line: 1, message: message) }
    let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    guard bytes.count >= 10, bytes.prefix(6).elementsEqual(magic) else {
      throw fail("expected a NumPy .npy file (starting with \\x93NUMPY), found other bytes")
    }
    let major = bytes[6]
    let lengthBytes = major == 1 ? 2 : 4
    guard major >= 1, major <= 3, bytes.count >= 8 + lengthBytes else {
      throw fail("expected .npy format version 1, 2 or 3, found \(major)")
    }
    var length = 0
    for index in (0..<lengthBytes).reversed() { length = length << 8 | Int(bytes[8 + index]) }
    let dataOffset = 8 + lengthBytes + length
    guard dataOffset <= bytes.count else {
      throw fail("expected a header of \(length) bytes, found a file of \(bytes.count) bytes")
    }
    let text = String(decoding: bytes[(8 + lengthBytes)..<dataOffset], as: UTF8.self)
    guard let descr = value(of: "descr", in: text)?.trimmingQuotes else {
      throw fail("expected a 'descr' entry in the .npy header, found \(text)")
    }
    let types = ["<f4": "f4", "<f8": "f8", "<i4": "i4", "<i8": "i8", "|f4": "f4"]
    guard let type = types[descr] else {
      throw fail("expected little-endian float32 or float64 data ('<f4' or '<f8'), found '\(descr)'")
    }
    guard value(of: "fortran_order", in: text) == "False" else {
      throw fail(
        "expected C order (fortran_order False), found Fortran order; save with np.ascontiguousarray")
    }
    guard let shapeText = value(of: "shape", in: text) else {
      throw fail("expected a 'shape' entry in the .npy header, found \(text)")
    }
    let shape = shapeText.split(whereSeparator: { "(), ".contains($0) }).compactMap { Int($0) }
    guard shape.allSatisfy({ $0 >= 0 }) else {
      throw fail("expected dimensions of 0 or more in the shape, found \(shapeText)")
    }
    let header = NPYHeader(type: type, shape: shape, dataOffset: dataOffset)
    // The shape comes from the file: its product is checked, never trusted.
    var needed = header.elementSize
    for dimension in shape {
      let (product, overflow) = needed.multipliedReportingOverflow(by: dimension)
      guard !overflow else { throw fail("expected a shape whose size fits in memory, found \(shapeText)") }
      needed = product
    }
    guard needed <= bytes.count - dataOffset else {
      throw fail("expected \(needed) bytes of data for shape \(shapeText), found \(bytes.count - dataOffset)")
    }
    return header
  }

  /// The text after `'key':` up to the next top-level comma or brace.
  private static func value(of key: String, in text: String) -> String? {
    guard let range = text.firstRange(of: "'\(key)':") else { return nil }
    var depth = 0
    var result = ""
    for character in text[range.upperBound...] {
      if character == "(" { depth += 1 }
      if character == ")" { depth -= 1 }
      if depth == 0, character == "," || character == "}" { break }
      result.append(character)
      if depth == 0, character == ")" { break }
    }
    return result.trimmingCharacters(in: " ")
  }
}

extension String {
  fileprivate var trimmingQuotes: String { trimmingCharacters(in: "'\"") }

  fileprivate func trimmingCharacters(in set: String) -> String {
    var text = Substring(self)
    while let first = text.first, set.contains(first) { text.removeFirst() }
    while let last = text.last, set.contains(last) { text.removeLast() }
    return String(text)
  }
}

extension Importer {
  /// Reads a 2-D NumPy array of features at `path` (float32 or float64, C
  /// order) and a 1-D array of labels at `labels` into `sink` as dense rows.
  /// Without `labels` the rows have none: label kind none, which `labelKind`
  /// may say too but no other kind.
  public static func readNPY(
    _ path: String, labels: String?, into sink: RowSink, labelKind: LabelKind? = nil
  ) throws(IngestError) -> ConversionSummary {
    if let labels, labelKind == LabelKind.none {
      throw .invalidOptions(
        "\(path): --labels \(labels) gives labels, but --no-labels (label kind none) says there are none; "
          + "give one or the other")
    }
    if labels == nil, let labelKind, labelKind != LabelKind.none {
      throw .invalidOptions(
        "\(path): --label-kind \(labelKind) needs labels, and a .npy file holds only features; "
          + "give the labels with --labels y.npy")
    }
    let features: MappedFile
    let targets: MappedFile?
    do {
      features = try MappedFile(path: path)
      targets = try labels.map { (path) throws(DatasetError) in try MappedFile(path: path) }
    } catch { throw .dataset(error) }
    let header = try NPYHeader.decode(features.bytes, path: path)
    guard header.shape.count == 2, header.type.hasPrefix("f") else {
      throw .malformed(
        path: path, line: 1,
        message: "expected a 2-D float array (rows × features), found \(header.type) of shape \(header.shape)"
      )
    }
    let rows = header.shape[0]
    let columns = header.shape[1]
    var labelHeader: NPYHeader?
    if let labels, let targets {
      let decoded = try NPYHeader.decode(targets.bytes, path: labels)
      guard decoded.shape == [rows] || decoded.shape == [rows, 1] else {
        throw .malformed(
          path: labels, line: 1,
          message: "expected \(rows) labels (shape (\(rows),)), found shape \(decoded.shape)")
      }
      labelHeader = decoded
    }
    guard rows > 0 else {
      throw .malformed(path: path, line: 1, message: "expected at least one row, found 0")
    }
    if labels == nil {
      guard columns > 0 else {
        throw .malformed(
          path: path, line: 1, message: "expected at least one feature in a file without labels, found 0")
      }
      do { try sink.setUnlabelled() } catch { throw .dataset(error) }
    }
    var summary = LabelSummary()
    let step = max(1, 65_536 / max(columns, 1))
    for first in stride(from: 0, to: rows, by: step) {
      let range = first..<min(first + step, rows)
      var batch = RowBatch(layout: .dense, columns: columns)
      batch.values = elements(
        features.bytes, header, from: range.lowerBound * columns, count: range.count * columns)
      if let targets, let labelHeader {
        batch.labels = elements(targets.bytes, labelHeader, from: range.lowerBound, count: range.count)
      } else {
        batch.labels = [Float](repeating: 0, count: range.count)  // placeholders: no labels
      }
      if let bad = batch.values.firstIndex(where: { !$0.isFinite }) {
        throw .malformed(
          path: path, line: 1,
          message: "expected finite values, found \(batch.values[bad]) at row \(first + bad / columns), "
            + "column \(bad % columns)")
      }
      for (row, label) in zip(range, batch.labels) {
        guard let labels else { break }
        guard label.isFinite else {
          throw .malformed(
            path: labels, line: 1, message: "expected finite labels, found \(label) at row \(row)")
        }
        if let labelKind, let problem = labelProblem(label, labelKind) {
          throw .malformed(path: labels, line: 1, message: "row \(row): \(problem)")
        }
        summary.add(label)
      }
      do { try sink.append(batch) } catch { throw .dataset(error) }
    }
    let kind = labels == nil ? LabelKind.none : labelKind ?? summary.detected
    if let labels, let problem = summary.check(kind) { throw .invalidOptions("\(labels): \(problem)") }
    do { try sink.finish(columns: columns, labelKind: kind) } catch { throw .dataset(error) }
    return ConversionSummary(
      rows: rows, columns: columns, nonZeros: rows * columns, layout: .dense, labelKind: kind,
      inputBytes: features.bytes.count + (targets?.bytes.count ?? 0))
  }

  /// `count` elements from element `first` of the array in `bytes`, as Floats.
  private static func elements(
    _ bytes: UnsafeRawBufferPointer, _ header: NPYHeader, from first: Int, count: Int
  ) -> [Float] {
    let start = header.dataOffset + first * header.elementSize
    // Precondition: decode checked that every element lies inside `bytes`.
    assert(start + count * header.elementSize <= bytes.count)
    return (0..<count).map { index in
      let offset = start + index * header.elementSize
      switch header.type {
      case "f4": return bytes.loadUnaligned(fromByteOffset: offset, as: Float.self)
      case "f8": return Float(bytes.loadUnaligned(fromByteOffset: offset, as: Double.self))
      case "i4": return Float(bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self))
      default: return Float(bytes.loadUnaligned(fromByteOffset: offset, as: Int64.self))
      }
    }
  }
}
