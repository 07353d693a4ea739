import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// Rows that passed the one check the kernels rely on: the only rows
/// training, prediction and evaluation accept.
///
/// A ``RowBlock`` is plain pointers, and its readers check nothing: a CSR
/// column index at or past the column count would read and write past the
/// model. Making a `CheckedRows` scans the rows once, O(non-zeros), shared
/// out over threads, and refuses them with the first bad row unless
/// - CSR row offsets never decrease (so every row lies inside the block's
///   non-zeros),
/// - column indices increase within each row and stay below the column count,
/// - every value, label and weight is finite, and weights are not negative.
///
/// ```swift
/// let rows = try CheckedRows(block, source: "my rows")
/// let result = try Trainer(setup).fit(rows)
/// ```
///
/// The scan reads every byte of the rows, at memory speed (see BENCHMARKS.md,
/// "What the row check costs"). A ``Dataset`` checks its rows with
/// ``Dataset/checkedRows(threads:)``.
///
/// Sharing: a checked block is read-only (see ``RowBlock``), hence Sendable.
@dynamicMemberLookup
public struct CheckedRows: Sendable {
  /// The rows, checked.
  public let block: RowBlock
  /// What holds the rows' memory (a dataset's mapping), kept alive with
  /// every copy of this value: the rows outlive the ``Dataset`` they came from.
  public let owner: (any AnyObject & Sendable)?

  /// The block's properties (`count`, `columns`, `layout`, `nonZeros`, …).
  public subscript<T>(dynamicMember property: KeyPath<RowBlock, T>) -> T { block[keyPath: property] }

  /// Row `row`'s values (dense rows; see ``RowBlock/denseRow(_:)``).
  public func denseRow(_ row: Int) -> UnsafeBufferPointer<Float> { block.denseRow(row) }
  /// Row `row`'s indices and values (CSR rows; see ``RowBlock/sparseRow(_:)``).
  public func sparseRow(_ row: Int) -> SparseRow { block.sparseRow(row) }
  /// Row `row`'s label.
  public func label(_ row: Int) -> Float { block.label(row) }
  /// Row `row`'s weight (1 without weights).
  public func weight(_ row: Int) -> Float { block.weight(row) }

  /// Checks `rows` over `threads` threads; `source` names them in an error
  /// (a path, or a phrase such as "the training rows"). `owner`, when
  /// given, is kept alive as long as the result; otherwise the caller keeps
  /// the memory alive.
  public init(
    _ rows: RowBlock, source: String, threads: Int = 1, keepingAlive owner: (any AnyObject & Sendable)? = nil
  ) throws(DatasetError) {
    if let problem = Self.firstProblem(in: rows, threads: threads) {
      throw .invalidRow(source: source, row: problem.row, problem: problem.text)
    }
    block = rows
    self.owner = owner
  }

  /// Rows already checked, behind new labels and, optionally, new features
  /// or weights of the same shape: what a trainer makes of checked rows
  /// when it converts labels or standardises features. The caller keeps the
  /// new buffers alive; the result keeps this value's owner alive. The new buffers must
  /// hold `count` labels (and weights), and as many features as the block
  /// has values; their values are checked to be finite, O(count) for labels
  /// and weights and O(non-zeros) for features when given.
  public func replacing(
    labels: UnsafeBufferPointer<Float>, features: UnsafeBufferPointer<Float>? = nil,
    weights: UnsafeBufferPointer<Float>? = nil, source: String
  ) throws(DatasetError) -> CheckedRows {
    precondition(labels.count == block.count, "one label per row")
    precondition(features.map { $0.count == block.nonZeros } ?? true, "one feature per stored value")
    precondition(weights.map { $0.count == block.count } ?? true, "one weight per row")
    let rows = RowBlock(
      count: block.count, columns: block.columns, layout: block.layout,
      features: features?.baseAddress ?? block.features, offsets: block.offsets, indices: block.indices,
      labels: labels.baseAddress ?? block.labels, weights: weights.map { $0.baseAddress! } ?? block.weights)
    if let bad = Self.firstNonFinite(labels) {
      throw .invalidRow(
        source: source, row: bad, problem: "label \(Self.text(labels[bad])) is not a finite number")
    }
    if let weights, let bad = weights.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
      throw .invalidRow(
        source: source, row: bad, problem: "weight \(Self.text(weights[bad])) is not a finite number ≥ 0")
    }
    if let features, let bad = Self.firstNonFinite(features) {
      throw .invalidRow(
        source: source, row: rows.row(containingValue: bad),
        problem: "feature value \(Self.text(features[bad])) is not a finite number")
    }
    return CheckedRows(trusted: rows, owner: owner)
  }

  /// Rows `range`, sharing this block's memory (and its check).
  public func slice(_ range: Range<Int>) -> CheckedRows {
    CheckedRows(trusted: block.slice(range), owner: owner)
  }

  /// Rows known good by construction (a slice or relabelling of checked
  /// rows, or readable rows whose values were then found finite).
  init(trusted rows: RowBlock, owner: (any AnyObject & Sendable)?) {
    block = rows
    self.owner = owner
  }

  /// The first row that breaks one of the rules, and what it breaks;
  /// without `values`, every rule but the finite feature values.
  static func firstProblem(in rows: RowBlock, threads: Int, values: Bool = true) -> (row: Int, text: String)?
  {
    guard rows.count > 0 else { return nil }
    if rows.layout == .csr {
      let offsets = rows.offsets
      for row in 0..<rows.count where offsets[row] > offsets[row + 1] {
        return (row, "row offset \(offsets[row + 1]) is below the previous one, \(offsets[row])")
      }
    }
    return earliest(in: rows, threads: threads) { firstProblem(in: $0, values: values) }
  }

  /// The earliest problem `check` finds in `rows`, shared out over
  /// `threads` in contiguous chunks: the same answer for any thread count.
  static func earliest(
    in rows: RowBlock, threads: Int, _ check: @Sendable (RowBlock) -> (row: Int, text: String)?
  ) -> (row: Int, text: String)? {
    guard rows.count > 0 else { return nil }
    let chunks = max(1, min(threads, rows.count, 256))
    let firstBad = Mutex<(row: Int, text: String)?>(nil)
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
      let range = (rows.count * chunk / chunks)..<(rows.count * (chunk + 1) / chunks)
      if let problem = check(rows.slice(range)) {
        let found = (range.lowerBound + problem.row, problem.text)
        firstBad.withLock { bad in if bad == nil || found.0 < bad!.row { bad = found } }
      }
    }
    return firstBad.withLock { $0 }
  }

  /// One thread's check of `rows` (offsets already known non-decreasing):
  /// the earliest row that breaks any rule (but finite `values`, without them).
  private static func firstProblem(in rows: RowBlock, values checkingValues: Bool) -> (
    row: Int, text: String
  )? {
    var found: [(row: Int, text: String)] = []
    if checkingValues, let bad = firstNonFiniteValue(in: rows) { found.append(bad) }
    let labels = UnsafeBufferPointer(start: rows.labels, count: rows.count)
    if let bad = firstNonFinite(labels) {
      found.append((bad, "label \(text(labels[bad])) is not a finite number"))
    }
    if let weights = rows.weights {
      let weights = UnsafeBufferPointer(start: weights, count: rows.count)
      if let bad = weights.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
        found.append((bad, "weight \(text(weights[bad])) is not a finite number ≥ 0"))
      }
    }
    if rows.layout == .csr {
      // In Int: 2³¹ columns is allowed, and then every Int32 index is below the count.
      let limit = rows.columns
      rowLoop: for row in 0..<(found.map(\.row).min() ?? rows.count) {
        var previous: Int32 = -1
        for index in rows.sparseRow(row).indices {
          guard index > previous, Int(index) < limit else {
            let rule =
              index <= previous
              ? "above \(previous), the one before it" : "below \(rows.columns), the column count"
            found.append((row, "column index \(index) must be \(rule)"))
            break rowLoop
          }
          previous = index
        }
      }
    }
    return found.min { $0.row < $1.row }
  }

  /// The first stored feature value of `rows` that is not finite: its row and what is wrong.
  static func firstNonFiniteValue(in rows: RowBlock) -> (row: Int, text: String)? {
    let values = UnsafeBufferPointer(start: rows.features, count: rows.nonZeros)
    guard let bad = firstNonFinite(values) else { return nil }
    return (rows.row(containingValue: bad), "feature value \(text(values[bad])) is not a finite number")
  }

  /// A value as a message names it: NaN and the infinities spelt as people
  /// (and scikit-learn's checks) expect them.
  static func text(_ value: Float) -> String {
    value.isNaN ? "NaN" : value == .infinity ? "infinity" : value == -.infinity ? "-infinity" : "\(value)"
  }

  /// The index of the first infinity or NaN in `values`. Sixteen values at a
  /// time: a float is finite when its exponent bits are not all ones.
  static func firstNonFinite(_ values: UnsafeBufferPointer<Float>) -> Int? {
    guard let base = values.baseAddress else { return nil }
    let exponent = SIMD16<UInt32>(repeating: 0x7F80_0000)
    var start = 0
    // Whole blocks of sixteen are read unaligned; a block with a bad value
    // is searched one value at a time below.
    while start + 16 <= values.count {
      let bits = UnsafeRawPointer(base + start).loadUnaligned(as: SIMD16<UInt32>.self)
      if any((bits & exponent) .== exponent) { break }
      start += 16
    }
    return values[start...].firstIndex { !$0.isFinite }
  }
}

extension RowBlock {
  /// The row that holds stored value `value` (`value` < ``nonZeros``).
  func row(containingValue value: Int) -> Int {
    if layout == .dense { return value / columns }
    // The last row whose first value is at or before `value`.
    var low = 0
    var high = count
    while high - low > 1 {
      let middle = (low + high) / 2
      if Int(offsets[middle] - offsets[0]) <= value { low = middle } else { high = middle }
    }
    return low
  }
}

/// The number of cores this process may run on: what a scan over rows
/// (the row check, conversion, metrics) shares its work out over.
public enum ProcessInfoCores {
  /// The corresponding C function is `sysconf(_SC_NPROCESSORS_ONLN)`.
  public static var count: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
