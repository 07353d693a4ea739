/// How a dataset's features are stored.
public enum Layout: UInt8, Sendable, CaseIterable, CustomStringConvertible {
  /// Every row holds every column: `rows × columns` floats, row-major.
  case dense = 0
  /// Compressed sparse rows: per row, sorted column indices and their values.
  case csr = 1

  public var description: String { self == .dense ? "dense" : "csr" }
}

/// What the labels mean.
public enum LabelKind: UInt8, Sendable, CaseIterable, CustomStringConvertible {
  /// Real-valued targets, for regression.
  case real = 0
  /// Two classes, stored as written: −1/+1 or 0/1.
  case binary = 1
  /// Class indices 0, 1, 2, … for multi-class problems.
  case classIndex = 2
  /// No labels: the rows are features only, for clustering. The file has no
  /// labels section (length 0) and no class names; ``Dataset`` still gives
  /// every row the label 0 (see ``Dataset/rows``). Write it as
  /// `LabelKind.none`: in a `LabelKind?`, a bare `.none` is `nil`.
  case none = 3

  public var description: String {
    switch self {
    case .real: "real"
    case .binary: "binary"
    case .classIndex: "class"
    case .none: "none"
    }
  }

  /// The kind named `name` ("real", "binary", "class" or "none").
  public init?(name: String) {
    guard let kind = Self.allCases.first(where: { $0.description == name }) else { return nil }
    self = kind
  }
}

/// The sections of a `.sds` file, in file order.
public enum Section: Int, Sendable, CaseIterable, CustomStringConvertible {
  /// Float32 feature values: `rows × columns` (dense) or `nonZeros` (CSR).
  case features = 0
  /// Int64 CSR row offsets, `rows + 1` of them (empty for dense data).
  case rowOffsets = 1
  /// Int32 CSR column indices, `nonZeros` of them (empty for dense data).
  case columnIndices = 2
  /// Float32 labels, one per row.
  case labels = 3
  /// Float32 row weights, one per row, or empty when rows are unweighted.
  case weights = 4
  /// The names of the classes, newline-terminated UTF-8 (see ``ClassNames``),
  /// or empty when the classes have no names. Format version 2 only.
  case classNames = 5

  public var description: String {
    switch self {
    case .features: "features"
    case .rowOffsets: "row offsets"
    case .columnIndices: "column indices"
    case .labels: "labels"
    case .weights: "weights"
    case .classNames: "class names"
    }
  }
}

/// Where one section lies in the file and its checksum.
public struct SectionEntry: Sendable, Equatable {
  /// Byte offset from the start of the file, a multiple of 64 (0 when empty).
  public var offset: UInt64
  /// Length in bytes.
  public var length: UInt64
  /// CRC-32C of the section's bytes.
  public var checksum: UInt32

  /// A section entry.
  public init(offset: UInt64, length: UInt64, checksum: UInt32) {
    self.offset = offset
    self.length = length
    self.checksum = checksum
  }
}

/// The fixed 256-byte header at the start of every `.sds` file.
///
/// All integers are little-endian. Byte offsets:
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 0 | 8 | magic `SOUNDSDS` |
/// | 8 | 4 | format version: 1, or 2 when the file names its classes |
/// | 12 | 4 | header size (256) |
/// | 16 | 1 | layout: 0 dense row-major, 1 CSR |
/// | 17 | 1 | element type: 0 Float32 |
/// | 18 | 1 | label kind: 0 real, 1 binary, 2 class index, 3 none (no labels section) |
/// | 19 | 5 | reserved, zero |
/// | 24 | 8 | rows |
/// | 32 | 8 | columns |
/// | 40 | 8 | non-zeros (dense: rows × columns) |
/// | 48 | 5 × 24 | sections (features, row offsets, column indices, labels, weights): offset u64, length u64, CRC-32C u32, reserved u32 |
/// | 168 | 24 | version 2: the class-names section, as above; version 1: reserved, zero |
/// | 192 | 60 | reserved, zero |
/// | 252 | 4 | CRC-32C of bytes 0..<252 |
///
/// The header's own checksum is checked on every open (256 bytes); section
/// checksums only by ``Dataset/verify()``, except the small class-names
/// section's, which ``Dataset/init(path:)`` reads.
///
/// Version 2 differs from version 1 only by the class-names section. Writers
/// use version 1 for every file without class names, so such files read the
/// same in older Sounder versions; a file with class names is version 2, which
/// older versions refuse rather than drop the names.
public struct DatasetHeader: Sendable, Equatable {
  /// The first eight bytes of every `.sds` file.
  public static let magic: [UInt8] = Array("SOUNDSDS".utf8)
  /// The newest format version this code reads: 2, the version of files with
  /// class names. Files without class names are written as version 1.
  public static let currentVersion: UInt32 = 2
  /// The first version with the class-names section.
  public static let classNamesVersion: UInt32 = 2
  /// The header's size in bytes; the first section starts here.
  public static let size = 256
  /// Every section starts at a multiple of this many bytes.
  public static let alignment = 64

  /// The format version: 1, or ``classNamesVersion`` when the file names its
  /// classes.
  public var version: UInt32 = 1
  /// Dense or CSR.
  public var layout: Layout
  /// What the labels mean.
  public var labelKind: LabelKind
  /// Number of rows (examples).
  public var rows: Int
  /// Number of columns (features).
  public var columns: Int
  /// Stored feature values: `rows × columns` for dense data.
  public var nonZeros: Int
  /// The sections, indexed by ``Section/rawValue``.
  public var sections: [SectionEntry]

  /// A header, version 1; sections left out are empty.
  public init(
    layout: Layout, labelKind: LabelKind, rows: Int, columns: Int, nonZeros: Int,
    sections: [SectionEntry] = []
  ) {
    self.layout = layout
    self.labelKind = labelKind
    self.rows = rows
    self.columns = columns
    self.nonZeros = nonZeros
    let empty = SectionEntry(offset: 0, length: 0, checksum: 0)
    self.sections = sections + Array(repeating: empty, count: max(0, Section.allCases.count - sections.count))
  }

  /// The entry of `section`.
  public subscript(section: Section) -> SectionEntry {
    get { sections[section.rawValue] }
    set { sections[section.rawValue] = newValue }
  }

  /// Whether rows carry labels: false for label kind none, whose file has
  /// no labels section.
  public var hasLabels: Bool { labelKind != LabelKind.none }

  /// Whether rows carry weights.
  public var hasWeights: Bool { self[.weights].length > 0 }

  /// Whether the file names its classes.
  public var hasClassNames: Bool { self[.classNames].length > 0 }

  /// The 256 header bytes. A class-names section needs version 2 or later.
  public func encoded() -> [UInt8] {
    precondition(
      !hasClassNames || version >= Self.classNamesVersion, "class names need format version 2")
    var bytes = [UInt8](repeating: 0, count: Self.size)
    func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
      withUnsafeBytes(of: value.littleEndian) { raw in
        for (index, byte) in raw.enumerated() { bytes[offset + index] = byte }
      }
    }
    bytes.replaceSubrange(0..<8, with: Self.magic)
    put(version, at: 8)
    put(UInt32(Self.size), at: 12)
    bytes[16] = layout.rawValue
    bytes[17] = 0
    bytes[18] = labelKind.rawValue
    put(UInt64(rows), at: 24)
    put(UInt64(columns), at: 32)
    put(UInt64(nonZeros), at: 40)
    for (index, entry) in sections.enumerated() where index < 5 || version >= Self.classNamesVersion {
      put(entry.offset, at: 48 + 24 * index)
      put(entry.length, at: 56 + 24 * index)
      put(entry.checksum, at: 64 + 24 * index)
    }
    let checksum = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<252])) }
    put(checksum, at: 252)
    return bytes
  }

  /// Reads and checks a header at the start of `bytes`, a whole file of
  /// `bytes.count` bytes named `path`: magic, version, checksum, field values,
  /// and that every section lies inside the file. Reads nothing past
  /// `bytes.count`.
  public static func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws(DatasetError) -> Self {
    let fileSize = UInt64(bytes.count)
    let magicMatches = bytes.count >= 8 && zip(bytes[0..<8], magic).allSatisfy { $0 == $1 }
    guard magicMatches else {
      if bytes.count < 8, zip(bytes, magic).allSatisfy({ $0 == $1 }) {
        throw .truncated(path: path, expectedBytes: UInt64(size), foundBytes: fileSize)
      }
      throw .notADataset(path: path)
    }
    guard bytes.count >= 12 else {
      throw .truncated(path: path, expectedBytes: UInt64(size), foundBytes: fileSize)
    }
    func get<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
      T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
    let version = get(UInt32.self, at: 8)
    guard version <= currentVersion else {
      throw .unsupportedVersion(path: path, found: version, supported: currentVersion)
    }
    guard version >= 1 else {
      throw .invalidHeader(path: path, field: "version", expected: "1", found: "\(version)")
    }
    guard bytes.count >= size else {
      throw .truncated(path: path, expectedBytes: UInt64(size), foundBytes: fileSize)
    }
    let stored = get(UInt32.self, at: 252)
    let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<252]))
    guard stored == computed else {
      throw .checksumMismatch(path: path, section: "header", expected: stored, found: computed)
    }
    func invalid(_ field: String, _ expected: String, _ found: some BinaryInteger) -> DatasetError {
      .invalidHeader(path: path, field: field, expected: expected, found: "\(found)")
    }
    guard get(UInt32.self, at: 12) == UInt32(size) else {
      throw invalid("header size", "\(size)", get(UInt32.self, at: 12))
    }
    guard let layout = Layout(rawValue: bytes[16]) else { throw invalid("layout", "0 or 1", bytes[16]) }
    guard bytes[17] == 0 else { throw invalid("element type", "0 (Float32)", bytes[17]) }
    guard let labelKind = LabelKind(rawValue: bytes[18]) else {
      throw invalid("label kind", "0, 1, 2 or 3", bytes[18])
    }
    // Counts are bounded so that every size below fits in Int without overflow.
    let limit = UInt64(1) << 48
    let rows = get(UInt64.self, at: 24)
    let columns = get(UInt64.self, at: 32)
    let nonZeros = get(UInt64.self, at: 40)
    guard rows < limit else { throw invalid("rows", "less than 2^48", rows) }
    guard columns <= UInt64(Int32.max) + 1 else { throw invalid("columns", "at most 2^31", columns) }
    guard nonZeros < limit else { throw invalid("non-zeros", "less than 2^48", nonZeros) }
    // Without a labels section nothing in the file need grow with the rows
    // but the features: at least one column keeps the row count within the
    // file's size (the dataset's zero labels are sized by it).
    guard labelKind != LabelKind.none || columns > 0 else {
      throw invalid("columns", "at least 1 in a file without labels (label kind 3, none)", columns)
    }
    if layout == .dense {
      let (product, overflow) = rows.multipliedReportingOverflow(by: columns)
      guard !overflow, product == nonZeros else {
        throw invalid("non-zeros", "rows × columns = \(rows) × \(columns)", nonZeros)
      }
    }
    // Version 1 files keep the class-names slot reserved: read as empty.
    let slots = version >= classNamesVersion ? Section.allCases.count : Section.classNames.rawValue
    let expectedLengths: [Section: UInt64] = [
      .features: nonZeros * 4,
      .rowOffsets: layout == .csr ? (rows + 1) * 8 : 0,
      .columnIndices: layout == .csr ? nonZeros * 4 : 0,
      // Label kind none has no labels section; every other kind one label per row.
      .labels: labelKind == LabelKind.none ? 0 : rows * 4,
    ]
    var sections: [SectionEntry] = []
    for section in Section.allCases.prefix(slots) {
      let base = 48 + 24 * section.rawValue
      let entry = SectionEntry(
        offset: get(UInt64.self, at: base), length: get(UInt64.self, at: base + 8),
        checksum: get(UInt32.self, at: base + 16))
      switch section {
      case .classNames:
        // Any length: the names are checked when the dataset opens.
        guard entry.length == 0 || labelKind == .classIndex else {
          throw .invalidHeader(
            path: path, field: "label kind", expected: "2 (class index) in a file with class names",
            found: "\(labelKind.rawValue)")
        }
      default:
        let expected = expectedLengths[section] ?? (entry.length == 0 ? 0 : rows * 4)
        guard entry.length == expected else {
          let kind = section == .labels ? " for label kind \(labelKind.rawValue) (\(labelKind))" : ""
          throw invalid("\(section) length", "\(expected) bytes\(kind)", entry.length)
        }
      }
      if entry.length > 0 {
        guard entry.offset >= UInt64(size), entry.offset % UInt64(alignment) == 0 else {
          throw invalid("\(section) offset", "a multiple of \(alignment) past the header", entry.offset)
        }
        guard entry.offset <= fileSize, entry.length <= fileSize - entry.offset else {
          throw .truncated(path: path, expectedBytes: entry.offset + entry.length, foundBytes: fileSize)
        }
      }
      sections.append(entry)
    }
    var header = DatasetHeader(
      layout: layout, labelKind: labelKind, rows: Int(rows), columns: Int(columns),
      nonZeros: Int(nonZeros), sections: sections)
    header.version = version
    return header
  }
}
