import Dispatch
import Synchronization

/// A `.sds` dataset file, memory-mapped read-only.
///
/// Opening reads and checks only the 256-byte header and that every section
/// lies inside the file, so it takes the same time for any size; rows are
/// read from the page cache when touched. Section checksums and the CSR
/// structure are checked by ``verify()``, on demand.
///
/// ```swift
/// let data = try Dataset(path: "train.sds")
/// for row in 0..<data.rows.count { use(data.rows.sparseRow(row), data.rows.label(row)) }
/// ```
///
/// Sharing: the mapping is read-only and never changes while the value
/// exists, so any number of threads may read rows at once; that is why the
/// type is `Sendable`. Hot loops should copy ``rows`` (a ``RowBlock``, plain
/// pointers) into a local and read through it.
public struct Dataset: Sendable {
  /// The checked header.
  public let header: DatasetHeader
  /// The mapping, kept alive as long as any copy of this value.
  public let file: MappedFile
  /// All rows, as pointers into the mapping.
  ///
  /// Without labels (label kind none, ``hasLabels`` false) the file has no
  /// labels section, and `rows.labels` points at `rows.count` zeros that
  /// cost no memory (anonymous pages never written, which read as the
  /// kernel's zero page), owned by this value and by the ``CheckedRows``
  /// made from it like the mapping: every row's label reads as 0.
  public let rows: RowBlock
  /// The names of the classes: the label `Float(i)` is class `classNames[i]`.
  /// `nil` when the file names no classes (every file without a class-names
  /// section, such as all files of format version 1). Converting a CSV file
  /// whose label column holds names, such as `setosa`, gives names in
  /// byte-wise sorted order.
  public let classNames: [String]?

  /// The mapping and, without labels, the zeros the labels point at: what
  /// ``rows`` points into, kept alive with every copy of this value and
  /// handed to ``CheckedRows`` as its owner.
  let memory: DatasetMemory

  /// The path the dataset was opened from.
  public var path: String { file.path }

  /// Whether rows carry labels: false for label kind none (see ``rows``).
  public var hasLabels: Bool { header.hasLabels }

  /// Maps the `.sds` file at `path` and checks its header, and reads and
  /// checks the class names, if any (a small section). A truncated, foreign or
  /// newer-version file gives a ``DatasetError``, never a crash.
  public init(path: String) throws(DatasetError) {
    let file = try MappedFile(path: path)
    let header = try DatasetHeader.decode(file.bytes, path: path)
    self.file = file
    self.header = header
    // Training reads rows front to back: ask for more read-ahead.
    file.adviseSequential()
    // Every section was checked to lie inside the file, so these pointers and
    // the lengths the header gives stay in bounds. Empty sections point at the
    // header, which is never read through them.
    let base = file.bytes.baseAddress!
    func start<T>(_ section: Section, _: T.Type) -> UnsafePointer<T> {
      let entry = header[section]
      let offset = entry.length == 0 ? 0 : Int(entry.offset)
      return (base + offset).assumingMemoryBound(to: T.self)
    }
    let offsets = start(.rowOffsets, Int64.self)
    if header.layout == .csr {
      let first = offsets[0]
      let last = offsets[header.rows]
      guard first == 0, last == Int64(header.nonZeros) else {
        throw .invalidHeader(
          path: path, field: "row offsets", expected: "0 … \(header.nonZeros)", found: "\(first) … \(last)")
      }
    }
    if header.hasClassNames {
      let entry = header[.classNames]
      let bytes = UnsafeRawBufferPointer(
        rebasing: file.bytes[Int(entry.offset)..<Int(entry.offset + entry.length)])
      let found = CRC32C.checksum(bytes)
      guard found == entry.checksum else {
        throw .checksumMismatch(
          path: path, section: "\(Section.classNames)", expected: entry.checksum, found: found)
      }
      switch ClassNames.decode(bytes) {
      case .success(let names): classNames = names
      case .failure(let problem):
        throw .invalidHeader(
          path: path, field: "class names", expected: problem.expected, found: problem.found)
      }
    } else {
      classNames = nil
    }
    // Invariant: `labels` is valid for `header.rows` floats. With labels it
    // points into the mapping (the header checked the section's length);
    // without, at zeros of `rows × 4` bytes or more, which `memory` owns. The
    // header bounds the rows by the file's size (a file without labels has
    // columns), so the zeros never take more address space than the features.
    let zeroLabels = header.hasLabels ? nil : try ZeroPages(byteCount: header.rows * 4, for: path)
    memory = DatasetMemory(file: file, zeroLabels: zeroLabels)
    let labels =
      zeroLabels.map { $0.bytes.baseAddress!.assumingMemoryBound(to: Float.self) }
      ?? start(.labels, Float.self)
    rows = RowBlock(
      count: header.rows, columns: header.columns, layout: header.layout,
      features: start(.features, Float.self), offsets: offsets,
      indices: start(.columnIndices, Int32.self), labels: labels,
      weights: header.hasWeights ? start(.weights, Float.self) : nil)
  }

  /// The bytes of `section` (empty when the dataset has none).
  public func bytes(of section: Section) -> UnsafeRawBufferPointer {
    let entry = header[section]
    guard entry.length > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    return UnsafeRawBufferPointer(rebasing: file.bytes[Int(entry.offset)..<Int(entry.offset + entry.length)])
  }

  /// Reads the whole file and checks every section's checksum, then the rows
  /// (``checkedRows(threads:)``) and, when the classes have names, that
  /// every label is the id of a named class.
  public func verify(threads: Int = 1) throws(DatasetError) {
    for section in Section.allCases where header[section].length > 0 {
      let found = CRC32C.checksum(bytes(of: section))
      guard found == header[section].checksum else {
        throw .checksumMismatch(
          path: path, section: "\(section)", expected: header[section].checksum, found: found)
      }
    }
    _ = try checkedRows(threads: threads)
    if let classNames {
      let labels = UnsafeBufferPointer(start: rows.labels, count: rows.count)
      let classes = Float(classNames.count)
      if let bad = labels.firstIndex(where: { !($0 >= 0 && $0 < classes && $0 == $0.rounded()) }) {
        throw .invalidRow(
          source: path, row: bad,
          problem: "label \(labels[bad]) is not a class id from 0 to \(classNames.count - 1)")
      }
    }
  }

  /// The rows, checked once for what the kernels rely on (see
  /// ``CheckedRows``), shared out over `threads` threads: O(non-zeros), at
  /// memory speed. Section checksums are not read (``verify()`` reads them):
  /// a damaged file gives one clear error instead of reads and writes past
  /// the model, and a damaged but well-formed value trains as it reads.
  public func checkedRows(threads: Int = 1) throws(DatasetError) -> CheckedRows {
    // The owner keeps the mapping and, without labels, the zero labels alive.
    try CheckedRows(rows, source: path, threads: threads, keepingAlive: memory)
  }
}
