#if canImport(Glibc)
  import Glibc
#endif

/// A caller's buffer of feature values: float32, borrowed as it is, or
/// float64, converted to float32 once.
public enum CallerValues {
  case float32(UnsafePointer<Float>)
  case float64(UnsafePointer<Double>)
}

/// A caller's buffer of CSR column indices: int32, borrowed as it is, or
/// int64, converted to int32 once (each must then fit, and lie below the
/// column count).
public enum CallerIndices {
  case int32(UnsafePointer<Int32>)
  case int64(UnsafePointer<Int64>)
}

/// Memory that rows made from a caller's buffers own: conversions of
/// float64 values or int64 indices, and the zero labels of rows given none.
/// Freed when the last ``CheckedRows`` that keeps it alive goes.
final class ConvertedBuffers: @unchecked Sendable {
  // Written only while the rows are being made; read-only afterwards.
  private var allocations: [UnsafeMutableRawPointer] = []

  /// `count` zeroed values of `type`, owned by this object. From `calloc`:
  /// large blocks come as fresh pages the kernel gives zeroed, so the zero
  /// labels of a prediction's rows cost no pass over memory (the kernels
  /// read at any alignment).
  func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
    guard let raw = calloc(max(count, 1), MemoryLayout<T>.stride) else {
      fatalError("out of memory for \(count) values of \(T.self)")
    }
    allocations.append(raw)
    return raw.bindMemory(to: T.self, capacity: max(count, 1))
  }
  deinit { for allocation in allocations { free(allocation) } }
}

extension ReadableRows {
  /// The most columns rows may have: CSR indices are int32.
  public static let mostColumns = Int(Int32.max) + 1

  /// Dense rows in a caller's memory: `rows × columns` values, row-major.
  /// float32 values are read where they are (the caller keeps them alive and
  /// unchanged as long as the result is used); float64 values are converted
  /// once. `labels` and `weights` hold `rows` floats each; without labels
  /// every label reads 0. The rows are checked as by
  /// ``init(_:source:threads:keepingAlive:)``; `source` names them in errors.
  public static func borrowing(
    dense values: CallerValues, rows: Int, columns: Int, labels: UnsafePointer<Float>?,
    weights: UnsafePointer<Float>?, source: String, threads: Int = ProcessInfoCores.count
  ) throws(DatasetError) -> ReadableRows {
    try checkShape(rows: rows, columns: columns, source: source)
    let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
    guard !overflow, count <= Int.max / 8 else {
      throw .invalidRows("\(source): \(rows) rows × \(columns) columns is more values than memory can hold")
    }
    let owned = ConvertedBuffers()
    let features = floats(values, count: count, into: owned)
    let noOffsets = owned.allocate(Int64.self, count: 1)
    let block = RowBlock(
      count: rows, columns: columns, layout: .dense, features: features, offsets: noOffsets,
      indices: owned.allocate(Int32.self, count: 1),
      labels: labels ?? UnsafePointer(owned.allocate(Float.self, count: rows)),
      weights: weights)
    return try ReadableRows(block, source: source, threads: threads, keepingAlive: owned)
  }

  /// CSR rows in a caller's memory, scipy's layout: row `i` holds the
  /// column indices `indices[offsets[i] ..< offsets[i+1]]` and their values;
  /// `offsets` has `rows + 1` entries, the first 0. int32 indices and float32
  /// values are read where they are; int64 indices and float64 values are
  /// converted once. Labels and weights as for ``borrowing(dense:rows:columns:labels:weights:source:threads:)``.
  public static func borrowing(
    csr offsets: UnsafePointer<Int64>, indices: CallerIndices, values: CallerValues, rows: Int, columns: Int,
    labels: UnsafePointer<Float>?, weights: UnsafePointer<Float>?, source: String,
    threads: Int = ProcessInfoCores.count
  ) throws(DatasetError) -> ReadableRows {
    try checkShape(rows: rows, columns: columns, source: source)
    guard columns <= mostColumns else {
      throw .invalidRows("\(source): \(columns) columns is more than the \(mostColumns) CSR rows may have")
    }
    guard offsets[0] == 0 else {
      throw .invalidRows("\(source): the row offsets must start at 0, not \(offsets[0])")
    }
    // The row check below finds offsets that decrease; the count must be sane first.
    guard offsets[rows] >= 0 else {
      throw .invalidRows("\(source): the last row offset, \(offsets[rows]), is below 0")
    }
    let count = Int(offsets[rows])
    let owned = ConvertedBuffers()
    let columnIndices: UnsafePointer<Int32>
    switch indices {
    case .int32(let pointer): columnIndices = pointer
    case .int64(let pointer):
      let converted = owned.allocate(Int32.self, count: count)
      for i in 0..<count {
        let index = pointer[i]
        guard index >= 0, index < columns else {
          let row = (0..<rows).first { offsets[$0 + 1] > i } ?? rows - 1
          throw .invalidRow(
            source: source, row: row,
            problem: "column index \(index) must be ≥ 0 and below \(columns), the column count")
        }
        converted[i] = Int32(index)
      }
      columnIndices = UnsafePointer(converted)
    }
    let block = RowBlock(
      count: rows, columns: columns, layout: .csr, features: floats(values, count: count, into: owned),
      offsets: offsets, indices: columnIndices,
      labels: labels ?? UnsafePointer(owned.allocate(Float.self, count: rows)), weights: weights)
    return try ReadableRows(block, source: source, threads: threads, keepingAlive: owned)
  }

  /// Refuses a negative row count or a row without columns.
  private static func checkShape(rows: Int, columns: Int, source: String) throws(DatasetError) {
    guard rows >= 0, columns >= 1 else {
      throw .invalidRows("\(source): \(rows) rows × \(columns) columns: rows must be ≥ 0 and columns ≥ 1")
    }
  }

  /// `values` as float32: where they are, or converted into `owned`.
  private static func floats(_ values: CallerValues, count: Int, into owned: ConvertedBuffers)
    -> UnsafePointer<Float>
  {
    switch values {
    case .float32(let pointer): return pointer
    case .float64(let pointer):
      let converted = owned.allocate(Float.self, count: count)
      for i in 0..<count { converted[i] = Float(pointer[i]) }
      return UnsafePointer(converted)
    }
  }
}
