import Dataset
import Foundation
import Kernels
import Parallel
import SeededRandom

/// Starting centres for k-means.
struct KMeansSeeding {
  let state: ClusterState
  let block: RowBlock
  let team: WorkerTeam
  let assignments: [WorkerAssignment]

  /// Row `row` of `block` as `columns` floats (sparse rows spread out).
  static func dense(_ block: RowBlock, _ row: Int) -> [Float] {
    switch block.layout {
    case .dense: return Array(block.denseRow(row))
    case .csr:
      var values = [Float](repeating: 0, count: block.columns)
      let x = block.sparseRow(row)
      for (j, value) in zip(x.indices, x.values) { values[Int(j)] = value }
      return values
    }
  }

  /// k distinct rows drawn uniformly without replacement (a lazy
  /// Fisher–Yates shuffle, so each row is drawn at most once); an error
  /// when the rows hold fewer than k distinct values.
  static func random(
    _ block: RowBlock, clusters k: Int, using generator: inout SplitMix64
  ) throws(TrainingError) -> [Float] {
    var swapped: [Int: Int] = [:]
    var seen = Set<[Float]>()
    var centres: [Float] = []
    centres.reserveCapacity(k * block.columns)
    var drawn = 0
    while seen.count < k {
      guard drawn < block.count else { throw tooFewDistinct(k: k, found: seen.count) }
      // Swap position `drawn` with a random later one and take it.
      let pick = drawn + generator.next(below: block.count - drawn)
      let row = swapped[pick] ?? pick
      swapped[pick] = swapped[drawn] ?? drawn
      drawn += 1
      let values = dense(block, row)
      if seen.insert(values).inserted { centres += values }
    }
    return centres
  }

  static func tooFewDistinct(k: Int, found: Int) -> TrainingError {
    .invalidConfiguration("k = \(k) is more than the \(found) distinct rows in the data; use k ≤ \(found)")
  }

  /// Greedy k-means++ (as scikit-learn's): the first centre is a row drawn
  /// in proportion to its weight; each next one is the best, by the
  /// potential `Σ ρ min_c ‖x − c‖²` it leaves, of `2 + ⌊ln k⌋` rows drawn in
  /// proportion to their share of the current potential. Each step is two
  /// passes over the rows on every worker: the candidates' potentials, then
  /// the chosen one's distances.
  func plusPlus(using generator: inout SplitMix64) throws -> [Float] {
    let k = state.clusters
    let d = state.columns
    let n = block.count
    let trials = min(2 + Int(log(Double(k))), 16)
    var centres: [Float] = []
    centres.reserveCapacity(k * d)
    // First centre: ρ-proportional.
    let totalWeight = block.weights.map { w in (0..<n).reduce(0.0) { $0 + Double(w[$1]) } } ?? Double(n)
    let first = pick(generator.nextUnit() * totalWeight, total: totalWeight) { Double(block.weight($0)) }
    centres += Self.dense(block, first)
    var potential = try updatePotential(with: centres, first: true)
    var candidateMemory = [Float](repeating: 0, count: CentrePanel.floats(centres: trials, columns: d))
    let partial = UnsafeMutablePointer<Double>.allocate(capacity: state.workers * 16)
    defer { partial.deallocate() }
    for chosen in 1..<k {
      guard potential > 0 else { throw Self.tooFewDistinct(k: k, found: chosen) }
      // Candidates: rows drawn in proportion to their potential ρ D².
      var rows: [Int] = []
      for _ in 0..<trials {
        rows.append(pick(generator.nextUnit() * potential, total: potential) { Double(state.potential[$0]) })
      }
      let candidates = rows.flatMap { Self.dense(block, $0) }
      // Each candidate's potential, Σ_w over workers in worker order.
      let sums = try candidateMemory.withUnsafeMutableBufferPointer { memory in
        let panel = CentrePanel(centres: trials, columns: d, memory: memory.baseAddress!)
        candidates.withUnsafeBufferPointer { panel.load($0.baseAddress!) }
        return try candidatePotentials(panel, trials: trials, into: partial)
      }
      var best = 0
      for t in 1..<trials where sums[t] < sums[best] { best = t }
      centres += candidates[best * d..<(best + 1) * d]
      potential = try updatePotential(with: Array(candidates[best * d..<(best + 1) * d]), first: false)
    }
    return centres
  }

  /// The first row whose running total of `value` passes `target` (the last
  /// row with a positive value when rounding leaves the target past the end).
  private func pick(_ target: Double, total: Double, value: (Int) -> Double) -> Int {
    var running = 0.0
    var last = 0
    for row in 0..<block.count {
      let v = value(row)
      if v > 0 { last = row }
      running += v
      if running > target && v > 0 { return row }
    }
    return last
  }

  /// Sets each row's potential `ρ min(D², ‖x − c‖²)` for the new centre `c`
  /// (the last `columns` values of `centre`) and returns the total.
  private func updatePotential(with centre: [Float], first: Bool) throws -> Double {
    let state = state
    let block = block
    let assignments = assignments
    let d = state.columns
    let values = Array(centre.suffix(d))
    var norm = 0.0
    for v in values { norm += Double(v) * Double(v) }
    let centreNorm = norm
    try values.withUnsafeBufferPointer { buffer in
      let c = buffer.baseAddress!
      let pointer = UnsafeSendable(c)
      try team.run { context in
        var total = 0.0
        for position in assignments[context.index].rows {
          let row = Int(position)
          let distance: Float
          switch block.layout {
          case .dense:
            distance = Distances.squaredDistance(
              dense: block.denseRow(row).baseAddress!, centre: pointer.value, columns: d)
          case .csr:
            let x = block.sparseRow(row)
            distance = Distances.squaredDistance(
              sparse: x.indices, values: x.values, centre: pointer.value, centreNorm: centreNorm)
          }
          let weighted = block.weight(row) * distance
          let value = first ? weighted : min(state.potential[row], weighted)
          state.potential[row] = value
          total += Double(value)
        }
        state.tallies[context.index * 8] = total
      }
    }
    var total = 0.0
    for w in 0..<state.workers { total += state.tallies[w * 8] }
    return total
  }

  /// `Σ ρ min(D², ‖x − t‖²)` for each candidate `t` of `panel`, summed per
  /// worker then over the workers in worker order.
  private func candidatePotentials(
    _ panel: CentrePanel, trials: Int, into partial: UnsafeMutablePointer<Double>
  ) throws -> [Double] {
    let state = state
    let block = block
    let assignments = assignments
    let partials = UnsafeSendable(partial)
    try team.run { context in
      let sums = partials.value + context.index * 16
      sums.update(repeating: 0, count: 16)
      let rows = assignments[context.index].rows
      withUnsafeTemporaryAllocation(of: Float.self, capacity: max(64, panel.width)) { scratch in
        let scores = scratch.baseAddress!
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 4) { group in
          var start = 0
          while start < rows.count {
            let count = block.layout == .dense ? min(4, rows.count - start) : 1
            if block.layout == .dense {
              for slot in 0..<count { group[slot] = block.denseRow(Int(rows[start + slot])).baseAddress! }
              Distances.scores(dense: group.baseAddress!, count: count, panel: panel, block: 0, into: scores)
            } else {
              let x = block.sparseRow(Int(rows[start]))
              Distances.scores(sparse: x.indices, values: x.values, panel: panel, into: scores)
            }
            for slot in 0..<count {
              let row = Int(rows[start + slot])
              let x = block.layout == .dense ? block.denseRow(row) : block.sparseRow(row).values
              let norm = Dense.squaredNorm(x)
              let weight = block.weight(row)
              let current = state.potential[row]
              for t in 0..<trials {
                sums[t] += Double(min(current, weight * max(norm + scores[slot * 16 + t], 0)))
              }
            }
            start += count
          }
        }
      }
    }
    return (0..<trials).map { t in (0..<state.workers).reduce(0.0) { $0 + partial[$1 * 16 + t] } }
  }
}

/// A pointer handed to the workers of one pass, which only read through it
/// (or each write their own part of it) while the caller waits.
struct UnsafeSendable<Pointer>: @unchecked Sendable {
  let value: Pointer
  init(_ value: Pointer) { self.value = value }
}

extension SplitMix64 {
  /// A uniform Double in [0, 1).
  mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}
