/// One CSR row: its sorted column indices and their values, side by side.
@frozen
public struct SparseRow {
  /// Column indices, strictly increasing, each less than the column count.
  public let indices: UnsafeBufferPointer<Int32>
  /// The values at those columns.
  public let values: UnsafeBufferPointer<Float>

  /// A row over existing buffers of equal length.
  @inlinable
  public init(indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>) {
    assert(indices.count == values.count, "a sparse row needs one value per index")
    self.indices = indices
    self.values = values
  }
}

/// Rows held contiguously in memory, read through raw pointers: the whole of
/// a mapped dataset, a partition of it, or a partition's node-local replica.
///
/// This is what training loops read. It holds no references, so passing and
/// copying it costs no reference counting, and row access is a few loads and
/// one multiply. Bounds are checked with `assert` only (debug builds).
///
/// Sharing: the memory behind the pointers is never written once the block
/// exists (a read-only file mapping or a finished replica), and whoever made
/// the block keeps that memory alive (a ``Dataset``, or a node-local copy)
/// for as long as the block is used. Any number of threads may read it at once,
/// which is why it is `Sendable`.
@frozen
public struct RowBlock: @unchecked Sendable {
  /// Number of rows.
  public let count: Int
  /// Number of columns (features).
  public let columns: Int
  /// Dense or CSR.
  public let layout: Layout
  /// Dense: `count × columns` floats. CSR: the values of this block's rows.
  public let features: UnsafePointer<Float>
  /// CSR: `count + 1` offsets into the dataset's values; row `i` spans
  /// `offsets[i] - offsets[0] ..< offsets[i + 1] - offsets[0]` of ``features``.
  /// Unused for dense blocks.
  public let offsets: UnsafePointer<Int64>
  /// CSR column indices, parallel to ``features``. Unused for dense blocks.
  public let indices: UnsafePointer<Int32>
  /// One label per row.
  public let labels: UnsafePointer<Float>
  /// One weight per row, or `nil` when every row weighs 1.
  public let weights: UnsafePointer<Float>?
  /// `offsets[0]`, kept to save a load per row.
  @usableFromInline let offsetBase: Int64

  /// A block over existing memory; see the properties for what each holds.
  public init(
    count: Int, columns: Int, layout: Layout, features: UnsafePointer<Float>,
    offsets: UnsafePointer<Int64>, indices: UnsafePointer<Int32>, labels: UnsafePointer<Float>,
    weights: UnsafePointer<Float>?
  ) {
    self.count = count
    self.columns = columns
    self.layout = layout
    self.features = features
    self.offsets = offsets
    self.indices = indices
    self.labels = labels
    self.weights = weights
    offsetBase = layout == .csr ? offsets[0] : 0
  }

  /// The memory that holds these rows: features, labels, and for CSR rows
  /// offsets and column indices, and weights where present (empty ranges
  /// left out). For placing or locating the rows' pages.
  public var memoryRanges: [UnsafeRawBufferPointer] {
    var ranges = [
      UnsafeRawBufferPointer(start: features, count: nonZeros * 4),
      UnsafeRawBufferPointer(start: labels, count: count * 4),
    ]
    if layout == .csr {
      ranges.append(UnsafeRawBufferPointer(start: offsets, count: (count + 1) * 8))
      ranges.append(UnsafeRawBufferPointer(start: indices, count: nonZeros * 4))
    }
    if let weights { ranges.append(UnsafeRawBufferPointer(start: weights, count: count * 4)) }
    return ranges.filter { $0.count > 0 }
  }

  /// Stored values: `count × columns` for dense blocks.
  public var nonZeros: Int {
    layout == .dense ? count * columns : Int(offsets[count] - offsetBase)
  }

  /// Row `row`'s `columns` values. Dense blocks only.
  @inlinable @inline(__always)
  public func denseRow(_ row: Int) -> UnsafeBufferPointer<Float> {
    assert(layout == .dense, "denseRow on a CSR block")
    assert(row >= 0 && row < count, "row \(row) out of 0..<\(count)")
    return UnsafeBufferPointer(start: features + row &* columns, count: columns)
  }

  /// Row `row`'s column indices and values. CSR blocks only.
  @inlinable @inline(__always)
  public func sparseRow(_ row: Int) -> SparseRow {
    assert(layout == .csr, "sparseRow on a dense block")
    assert(row >= 0 && row < count, "row \(row) out of 0..<\(count)")
    let start = Int(offsets[row] &- offsetBase)
    let length = Int(offsets[row &+ 1] &- offsets[row])
    return SparseRow(
      indices: UnsafeBufferPointer(start: indices + start, count: length),
      values: UnsafeBufferPointer(start: features + start, count: length))
  }

  /// Row `row`'s label.
  @inlinable @inline(__always)
  public func label(_ row: Int) -> Float {
    assert(row >= 0 && row < count, "row \(row) out of 0..<\(count)")
    return labels[row]
  }

  /// Row `row`'s weight (1 when the dataset has no weights).
  @inlinable @inline(__always)
  public func weight(_ row: Int) -> Float {
    assert(row >= 0 && row < count, "row \(row) out of 0..<\(count)")
    return weights?[row] ?? 1
  }

  /// Rows `range` of this block, sharing its memory.
  public func slice(_ range: Range<Int>) -> RowBlock {
    precondition(range.lowerBound >= 0 && range.upperBound <= count, "rows \(range) out of 0..<\(count)")
    let dense = layout == .dense
    let start = dense ? range.lowerBound * columns : Int(offsets[range.lowerBound] - offsetBase)
    return RowBlock(
      count: range.count, columns: columns, layout: layout, features: features + start,
      offsets: dense ? offsets : offsets + range.lowerBound, indices: dense ? indices : indices + start,
      labels: labels + range.lowerBound, weights: weights.map { $0 + range.lowerBound })
  }
}
