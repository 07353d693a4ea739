import CAtomics
import Parallel

/// The models workers write: one or more replicas of the model's parameters,
/// each on the NUMA node of the workers that use it. A replica holds
/// `columns × outputs` weights (feature-major, as ``LinearModel``) followed
/// by the `outputs` intercepts: ``parameterCount`` floats.
///
/// Workers that share a replica write it without locks (Hogwild!); replicas
/// are read by other workers only between two barriers, when nobody writes.
/// That protocol, not this type, makes sharing safe.
final class ModelReplicas: @unchecked Sendable {
  let columns: Int
  /// K, the margins per row.
  let outputs: Int
  /// `columns × outputs`: the weights, before the intercepts.
  let weightCount: Int
  /// The weights and the intercepts.
  var parameterCount: Int { weightCount + outputs }
  private let buffers: [NodeLocalBuffer]
  /// Per replica, AdaGrad's sums of squared gradients for the weights and
  /// the intercepts (``parameterCount`` floats, beside the replica); empty
  /// under the global step-size schedules.
  private let squares: [NodeLocalBuffer]
  /// With several replicas whose merge adds up their changes (AdaGrad, or
  /// sparse rows; see ``ReplicaMerge``), what every replica held after the
  /// last merge (weights and bias, and under AdaGrad the sums); `nil`
  /// otherwise.
  private let merged: NodeLocalBuffer?
  private let mergedSquares: NodeLocalBuffer?

  /// `count` zeroed replicas of a model of `outputs` outputs over `columns`
  /// features; replica `r` lives on kernel node `nodes[r]`. `adaptive`: each
  /// also gets zeroed AdaGrad sums. `keepsMerged`: merges add up the
  /// replicas' changes (here or over processes), so the merged state is kept.
  init(
    count: Int, columns: Int, outputs: Int = 1, nodes: [Int?], adaptive: Bool = false,
    keepsMerged: Bool = false
  ) throws {
    self.columns = columns
    self.outputs = outputs
    weightCount = columns * outputs
    let size = weightCount + outputs
    buffers = try (0..<count).map { try NodeLocalBuffer(count: size, node: nodes[$0]) }
    squares = adaptive ? try (0..<count).map { try NodeLocalBuffer(count: size, node: nodes[$0]) } : []
    merged = keepsMerged ? try NodeLocalBuffer(count: size, node: nil) : nil
    mergedSquares = keepsMerged && adaptive ? try NodeLocalBuffer(count: size, node: nil) : nil
  }

  /// The parameters all replicas held after the last merge (empty
  /// with one replica or under a global schedule).
  @inline(__always)
  var mergedParameters: UnsafeMutableBufferPointer<Float> { merged?.floats ?? .init(start: nil, count: 0) }

  /// The AdaGrad sums all replicas held after the last merge (empty with one
  /// replica or under a global schedule).
  @inline(__always)
  var mergedSquaredSums: UnsafeMutableBufferPointer<Float> {
    mergedSquares?.floats ?? .init(start: nil, count: 0)
  }

  /// Replica `r`'s AdaGrad sums, weights' then the intercepts'
  /// (``parameterCount`` floats); only for replicas made `adaptive`.
  @inline(__always)
  func squaredSums(_ r: Int) -> UnsafeMutableBufferPointer<Float> { squares[r].floats }

  /// Replica 0's AdaGrad sums, copied out (`nil` when not adaptive).
  func squaredSumsSnapshot() -> [Float]? { squares.isEmpty ? nil : Array(squares[0].floats) }

  /// Sets every replica's AdaGrad sums.
  func load(squaredSums: [Float]) {
    for r in squares.indices { _ = squares[r].floats.update(fromContentsOf: squaredSums) }
    if let mergedSquares { _ = mergedSquares.floats.update(fromContentsOf: squaredSums) }
  }

  var count: Int { buffers.count }

  /// Replica `r`'s weights and intercepts, side by side (``parameterCount`` floats).
  @inline(__always)
  func parameters(_ r: Int) -> UnsafeMutableBufferPointer<Float> { buffers[r].floats }

  /// Replica `r` as the row step reads and writes it.
  @inline(__always)
  func view(_ r: Int) -> ModelView {
    let parameters = buffers[r].floats
    return ModelView(
      weights: UnsafeMutableBufferPointer(rebasing: parameters[0..<weightCount]),
      intercepts: parameters.baseAddress! + weightCount,
      sums: squares.isEmpty ? UnsafeMutableBufferPointer(start: nil, count: 0) : squares[r].floats)
  }

  /// Replica 0's weights and intercepts, copied out.
  func snapshot() -> (weights: [Float], intercepts: [Float]) {
    let parameters = buffers[0].floats
    return (Array(parameters[0..<weightCount]), Array(parameters[weightCount...]))
  }

  /// Sets every replica to the given weights and intercepts.
  func load(weights: [Float], intercepts: [Float]) {
    precondition(weights.count == weightCount && intercepts.count == outputs, "a model of another shape")
    let values = weights + intercepts
    for r in 0..<count { _ = parameters(r).update(fromContentsOf: values) }
    if let merged { _ = merged.floats.update(fromContentsOf: values) }
  }
}

/// The coordinates `0..<total` worker `index` of `count` owns in a parallel
/// reduction: contiguous, cut at multiples of 16 floats (one cache line) so
/// that no two workers write the same line.
func coordinateSlice(_ index: Int, of count: Int, total: Int) -> Range<Int> {
  let lines = (total + 15) / 16
  let lower = min(lines * index / count * 16, total)
  let upper = min(lines * (index + 1) / count * 16, total)
  return lower..<upper
}
