/// Rows held in ordinary arrays: what parsers and generators produce and
/// what ``RowSink``s consume, a batch at a time.
public struct RowBatch: Sendable, Equatable {
  /// Dense or CSR.
  public var layout: Layout
  /// Dense: values per row. CSR: 0 (the dataset's width is decided at the end).
  public var columns: Int
  /// One label per row; 0 for each row of data without labels (label kind
  /// none), where the labels are placeholders that count the rows.
  public var labels: [Float] = []
  /// One weight per row, or empty when the rows are unweighted.
  public var weights: [Float] = []
  /// Dense: `rows × columns` values, row-major. CSR: the stored values.
  public var values: [Float] = []
  /// CSR: column indices (0-based, increasing within each row), parallel to ``values``.
  public var indices: [Int32] = []
  /// CSR: the number of stored values of each row.
  public var rowLengths: [Int32] = []

  /// An empty batch.
  public init(layout: Layout, columns: Int = 0) {
    self.layout = layout
    self.columns = columns
  }

  /// Number of rows.
  public var rowCount: Int { labels.count }

  /// Removes all rows, keeping the arrays' capacity.
  public mutating func removeAll() {
    labels.removeAll(keepingCapacity: true)
    weights.removeAll(keepingCapacity: true)
    values.removeAll(keepingCapacity: true)
    indices.removeAll(keepingCapacity: true)
    rowLengths.removeAll(keepingCapacity: true)
  }
}

/// Somewhere rows go, batch by batch, in order: a `.sds` writer or a text
/// writer. Nothing is visible at the destination until ``finish(columns:labelKind:)``.
public protocol RowSink: AnyObject {
  /// Says, before the first ``append(_:)``, that the labels are ids of named
  /// classes: the label `Float(i)` is class `names[i]`. By default, ignored.
  func setClassNames(_ names: [String]) throws(DatasetError)
  /// Says, before the first ``append(_:)``, that the rows have no labels:
  /// their batches' labels are placeholders (zeros) and ``finish(columns:labelKind:)``
  /// will say label kind none. By default, ignored (a `.sds` writer needs no
  /// notice: it writes no labels section for label kind none).
  func setUnlabelled() throws(DatasetError)
  /// Adds `batch`'s rows after those added before.
  func append(_ batch: RowBatch) throws(DatasetError)
  /// Completes the output: the dataset has `columns` columns and labels of `labelKind`.
  func finish(columns: Int, labelKind: LabelKind) throws(DatasetError)
}

extension RowSink {
  /// Ignores the names: the sink keeps class ids only.
  public func setClassNames(_ names: [String]) throws(DatasetError) {}

  /// Ignores the notice: the sink learns the label kind at the end.
  public func setUnlabelled() throws(DatasetError) {}
}
