/// Rows that are safe to read but not yet to train on: every rule of
/// ``CheckedRows`` holds (CSR offsets never decrease, column indices
/// increase within a row and stay below the column count, labels and
/// weights are finite, weights not negative) except that the feature values
/// may not be finite.
///
/// What a caller's buffers become at the C boundary
/// (``borrowing(dense:rows:columns:labels:weights:source:threads:)``): the
/// check of the values is left to the first use, so that a prediction can
/// read them once. A value that is NaN or infinite makes every margin of
/// its row NaN or infinite (NaN and the infinities absorb addition, and
/// 0 × ∞ is NaN), so a predictor checks the margins it computes
/// (``firstProblem(inRow:)`` on a row whose margins are not finite) instead
/// of the values before it. Anything else takes ``checked(threads:)``.
///
/// Sharing: read-only, as ``CheckedRows``.
public struct ReadableRows: Sendable {
  /// The rows; their feature values unchecked.
  public let block: RowBlock
  /// What holds the rows' memory, kept alive with every copy of this value.
  public let owner: (any AnyObject & Sendable)?
  /// What names the rows in errors.
  public let source: String

  /// Checks `rows` but their feature values over `threads` threads.
  public init(
    _ rows: RowBlock, source: String, threads: Int = 1, keepingAlive owner: (any AnyObject & Sendable)? = nil
  ) throws(DatasetError) {
    if let problem = CheckedRows.firstProblem(in: rows, threads: threads, values: false) {
      throw .invalidRow(source: source, row: problem.row, problem: problem.text)
    }
    block = rows
    self.owner = owner
    self.source = source
  }

  /// The rows with their feature values checked too (one pass over them):
  /// what training and everything but prediction reads.
  public func checked(threads: Int = ProcessInfoCores.count) throws(DatasetError) -> CheckedRows {
    if let problem = CheckedRows.earliest(in: block, threads: threads, CheckedRows.firstNonFiniteValue) {
      throw .invalidRow(source: source, row: problem.row, problem: problem.text)
    }
    return CheckedRows(trusted: block, owner: owner)
  }

  /// What is wrong with row `row`'s feature values, if anything: the error
  /// ``checked(threads:)`` would throw for it.
  public func firstProblem(inRow row: Int) -> DatasetError? {
    CheckedRows.firstNonFiniteValue(in: block.slice(row..<row + 1)).map {
      .invalidRow(source: source, row: row + $0.row, problem: $0.text)
    }
  }
}
