import CAtomics

/// The models workers write: one or more replicas of `columns` weights
/// followed by the bias, each on the NUMA node of the workers that use it.
///
/// Workers that share a replica write it without locks (Hogwild!); replicas
/// are read by other workers only between two barriers, when nobody writes.
/// That protocol, not this type, makes sharing safe.
final class ModelReplicas: @unchecked Sendable {
  let columns: Int
  private let buffers: [NodeLocalBuffer]
  /// Per replica, AdaGrad's sums of squared gradients for the weights and
  /// the bias (`columns + 1` floats, beside the replica); empty under the
  /// global step-size schedules.
  private let squares: [NodeLocalBuffer]
  /// Under AdaGrad with several replicas, what every replica held after the
  /// last merge (weights and bias, and the sums), so that a merge can add up
  /// the replicas' changes since; `nil` otherwise.
  private let merged: NodeLocalBuffer?
  private let mergedSquares: NodeLocalBuffer?

  /// `count` zeroed replicas; replica `r` lives on kernel node `nodes[r]`.
  /// `adaptive`: each also gets zeroed AdaGrad sums.
  init(count: Int, columns: Int, nodes: [Int?], adaptive: Bool = false) throws {
    self.columns = columns
    buffers = try (0..<count).map { try NodeLocalBuffer(count: columns + 1, node: nodes[$0]) }
    squares = adaptive ? try (0..<count).map { try NodeLocalBuffer(count: columns + 1, node: nodes[$0]) } : []
    merged = count > 1 && adaptive ? try NodeLocalBuffer(count: columns + 1, node: nil) : nil
    mergedSquares = count > 1 && adaptive ? try NodeLocalBuffer(count: columns + 1, node: nil) : nil
  }

  /// The weights and bias all replicas held after the last merge (empty
  /// with one replica or under a global schedule).
  @inline(__always)
  var mergedParameters: UnsafeMutableBufferPointer<Float> { merged?.floats ?? .init(start: nil, count: 0) }

  /// The AdaGrad sums all replicas held after the last merge (empty with one
  /// replica or under a global schedule).
  @inline(__always)
  var mergedSquaredSums: UnsafeMutableBufferPointer<Float> {
    mergedSquares?.floats ?? .init(start: nil, count: 0)
  }

  /// Replica `r`'s AdaGrad sums, weights' then the bias's (`columns + 1`
  /// floats); only for replicas made `adaptive`.
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

  /// Replica `r`'s weights and bias, side by side (`columns + 1` floats).
  @inline(__always)
  func parameters(_ r: Int) -> UnsafeMutableBufferPointer<Float> { buffers[r].floats }

  /// Replica `r`'s weights.
  @inline(__always)
  func weights(_ r: Int) -> UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(rebasing: buffers[r].floats[0..<columns])
  }

  /// Replica `r`'s bias.
  @inline(__always)
  func bias(_ r: Int) -> UnsafeMutablePointer<Float> { buffers[r].floats.baseAddress! + columns }

  /// Replica 0's weights and bias, copied out.
  func snapshot() -> (weights: [Float], bias: Float) {
    (Array(weights(0)), bias(0).pointee)
  }

  /// Sets every replica to the given weights and bias.
  func load(weights: [Float], bias: Float) {
    for r in 0..<count {
      _ = UnsafeMutableBufferPointer(rebasing: parameters(r)[0..<columns]).update(fromContentsOf: weights)
      self.bias(r).pointee = bias
    }
    if let merged {
      _ = UnsafeMutableBufferPointer(rebasing: merged.floats[0..<columns]).update(fromContentsOf: weights)
      merged.floats[columns] = bias
    }
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
