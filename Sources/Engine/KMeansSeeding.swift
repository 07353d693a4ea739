import Dataset
import Kernels
import Parallel
import SeededRandom
import Topology

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

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
  /// proportion to their share of the current potential. Each step is one
  /// pass over the rows on every worker (the candidates' distances, kept per
  /// row, and their potentials), then a pass over the kept distances of the
  /// chosen one, not over the rows.
  func plusPlus(using generator: inout SplitMix64) throws -> [Float] {
    let k = state.clusters
    let d = state.columns
    let n = block.count
    let trials = min(2 + Int(log(Double(k))), 16)
    var centres: [Float] = []
    centres.reserveCapacity(k * d)
    centres += Self.dense(block, firstCentre(using: &generator))
    var potential = try updatePotential(with: centres, first: true)
    var candidateMemory = [Float](repeating: 0, count: CentrePanel.floats(centres: trials, columns: d))
    let partial = UnsafeMutablePointer<Double>.allocate(capacity: state.workers * 16)
    defer { partial.deallocate() }
    // Per row, each candidate's ρ‖x − t‖² of the current step.
    let distances = UnsafeMutablePointer<Float>.allocate(capacity: max(n * trials, 1))
    defer { distances.deallocate() }
    for chosen in 1..<k {
      guard potential > 0 else { throw Self.tooFewDistinct(k: k, found: chosen) }
      // Candidates: rows drawn in proportion to their potential ρ D², in one scan.
      let targets = (0..<trials).map { _ in generator.nextUnit() * potential }
      let candidates = pick(targets) { Double(state.potential[$0]) }.flatMap { Self.dense(block, $0) }
      // Each candidate's potential, Σ_w over workers in worker order.
      let sums = try candidateMemory.withUnsafeMutableBufferPointer { memory in
        let panel = CentrePanel(centres: trials, columns: d, memory: memory.baseAddress!)
        candidates.withUnsafeBufferPointer { panel.load($0.baseAddress!) }
        return try candidatePotentials(panel, trials: trials, into: partial, keeping: distances)
      }
      var best = 0
      for t in 1..<trials where sums[t] < sums[best] { best = t }
      centres += candidates[best * d..<(best + 1) * d]
      potential = try keep(candidate: best, of: trials, from: distances)
    }
    return centres
  }

  /// The rows' total weight (their count when they have no weights).
  static func totalWeight(_ block: RowBlock) -> Double {
    block.weights.map { w in (0..<block.count).reduce(0.0) { $0 + Double(w[$1]) } } ?? Double(block.count)
  }

  /// The first centre of k-means++ and k-means‖: a row drawn in proportion to its weight.
  private func firstCentre(using generator: inout SplitMix64) -> Int {
    pick([generator.nextUnit() * Self.totalWeight(block)]) { Double(block.weight($0)) }[0]
  }

  /// Lowers each row's potential to candidate `best`'s kept distance and
  /// returns the new total (summed per worker, then in worker order).
  private func keep(candidate best: Int, of trials: Int, from distances: UnsafeMutablePointer<Float>) throws
    -> Double
  {
    let state = state
    let assignments = assignments
    let kept = UnsafeSendable(distances)
    try team.run { context in
      var total = 0.0
      for position in assignments[context.index].rows {
        let row = Int(position)
        let value = min(state.potential[row], kept.value[row * trials + best])
        state.potential[row] = value
        total += Double(value)
      }
      state.tallies[context.index * 8] = total
    }
    return (0..<state.workers).reduce(0.0) { $0 + state.tallies[$1 * 8] }
  }

  /// k-means‖ (Bahmani et al., 2012) with oversampling ℓ = 2k and five
  /// rounds. Each round is one pass: every worker keeps each of its rows
  /// with probability `min(1, ℓ ρ D² / ψ)` (its own random stream, so a
  /// thread count gives the same sample every time); then one pass with the
  /// blocked kernel moves each row's `D²` and nearest candidate to the new
  /// ones. The candidates, weighed by their rows, are clustered into k by
  /// k-means++ and a few Lloyd iterations on one worker. Falls back to
  /// k-means++ when the rounds find fewer than k distinct candidates.
  func parallel(using generator: inout SplitMix64, topology: Topology) throws -> [Float] {
    let k = state.clusters
    let d = state.columns
    let n = block.count
    let oversampling = Double(2 * k)
    var candidates = Self.dense(block, firstCentre(using: &generator))
    state.labels.update(repeating: 0, count: n)
    var potential = try updatePotential(with: candidates, first: true)
    let seed = generator.next()
    for round in 0..<5 where potential > 0 {
      let sampled = try sample(
        oversampling / potential, seed: seed ^ (UInt64(round) &* 0x9E37_79B9_7F4A_7C15))
      guard !sampled.isEmpty else { continue }
      let base = candidates.count / d
      for row in sampled { candidates += Self.dense(block, row) }
      potential = try moveToNearest(of: Array(candidates[(base * d)...]), numberedFrom: base)
    }
    let count = candidates.count / d
    // Each candidate weighs as much as the rows nearest to it.
    var weights = [Float](repeating: 0, count: count)
    for row in 0..<n { weights[Int(state.labels[row])] += block.weight(row) }
    guard Set(stride(from: 0, to: candidates.count, by: d).map { candidates[$0..<$0 + d] }).count >= k else {
      return try plusPlus(using: &generator)
    }
    return try reduce(candidates, weights: weights, to: k, topology: topology, seed: seed)
  }

  /// Rows kept with probability `min(1, scale · ρ D²)`, in worker order.
  private func sample(_ scale: Double, seed: UInt64) throws -> [Int] {
    let state = state
    let assignments = assignments
    let kept = UnsafeMutablePointer<[Int]>.allocate(capacity: state.workers)
    kept.initialize(repeating: [], count: state.workers)
    defer { kept.deinitialize(count: state.workers).deallocate() }
    let lists = UnsafeSendable(kept)
    try team.run { context in
      var random = SplitMix64(seed: seed ^ (UInt64(context.index) &* 0xD1B5_4A32_D192_ED03))
      var mine: [Int] = []
      for position in assignments[context.index].rows {
        let row = Int(position)
        if random.nextUnit() < scale * Double(state.potential[row]) { mine.append(row) }
      }
      lists.value[context.index] = mine
    }
    return (0..<state.workers).flatMap { kept[$0] }
  }

  /// Moves each row's potential `ρ D²` and nearest candidate (`labels`) to
  /// the new candidates (`values`, numbered from `base`) where nearer;
  /// returns the new total potential.
  private func moveToNearest(of values: [Float], numberedFrom base: Int) throws -> Double {
    let state = state
    let block = block
    let assignments = assignments
    let d = state.columns
    let count = values.count / d
    var memory = [Float](repeating: 0, count: CentrePanel.floats(centres: count, columns: d))
    try memory.withUnsafeMutableBufferPointer { buffer in
      let panel = CentrePanel(centres: count, columns: d, memory: buffer.baseAddress!)
      values.withUnsafeBufferPointer { panel.load($0.baseAddress!) }
      try team.run { context in
        let rows = assignments[context.index].rows
        var total = 0.0
        withUnsafeTemporaryAllocation(of: Float.self, capacity: panel.width) { scratch in
          withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: Distances.group) { group in
            withUnsafeTemporaryAllocation(of: NearestCentre.self, capacity: Distances.group) { found in
              var start = 0
              while start < rows.count {
                let size = block.layout == .dense ? min(Distances.group, rows.count - start) : 1
                if block.layout == .dense {
                  for slot in 0..<size { group[slot] = block.denseRow(Int(rows[start + slot])).baseAddress! }
                  Distances.nearest(
                    dense: group.baseAddress!, count: size, panel: panel, into: found.baseAddress!)
                } else {
                  let x = block.sparseRow(Int(rows[start]))
                  found[0] = Distances.nearest(
                    sparse: x.indices, values: x.values, panel: panel, scratch: scratch.baseAddress!)
                }
                for slot in 0..<size {
                  let row = Int(rows[start + slot])
                  let x = block.layout == .dense ? block.denseRow(row) : block.sparseRow(row).values
                  let distance = block.weight(row) * max(Dense.squaredNorm(x) + found[slot].score, 0)
                  if distance < state.potential[row] {
                    state.potential[row] = distance
                    state.labels[row] = Int32(base) + found[slot].centre
                  }
                  total += Double(state.potential[row])
                }
                start += size
              }
            }
          }
        }
        state.tallies[context.index * 8] = total
      }
    }
    return (0..<state.workers).reduce(0.0) { $0 + state.tallies[$1 * 8] }
  }

  /// k centres from the weighted candidates: k-means++ then Lloyd's
  /// iteration (at most 30) on one worker.
  private func reduce(_ candidates: [Float], weights: [Float], to k: Int, topology: Topology, seed: UInt64)
    throws -> [Float]
  {
    let d = state.columns
    let count = candidates.count / d
    var labels = [Float](repeating: 0, count: count)
    var offsets = [Int64](repeating: 0, count: count + 1)
    var indices = [Int32](repeating: 0, count: 1)
    return try candidates.withUnsafeBufferPointer { values in
      try weights.withUnsafeBufferPointer { weights in
        try labels.withUnsafeMutableBufferPointer { labels in
          try offsets.withUnsafeMutableBufferPointer { offsets in
            try indices.withUnsafeMutableBufferPointer { indices in
              let rows = try CheckedRows(
                RowBlock(
                  count: count, columns: d, layout: .dense, features: values.baseAddress!,
                  offsets: offsets.baseAddress!, indices: indices.baseAddress!, labels: labels.baseAddress!,
                  weights: weights.baseAddress!), source: "the k-means‖ candidates")
              var setup = KMeansConfiguration(clusters: k)
              setup.maxIterations = 30
              setup.execution.threads = 1
              setup.execution.seed = seed
              return try KMeans(setup, topology: topology).fit(rows).model.centres
            }
          }
        }
      }
    }
  }

  /// For each target, the first row whose running total of `value` passes
  /// it (the last row with a positive value when rounding leaves a target
  /// past the end): one scan for all targets, answers in the targets' order.
  private func pick(_ targets: [Double], value: (Int) -> Double) -> [Int] {
    let order = targets.indices.sorted { targets[$0] < targets[$1] }
    var rows = [Int](repeating: 0, count: targets.count)
    var next = 0
    var running = 0.0
    var last = 0
    for row in 0..<block.count where next < order.count {
      let v = value(row)
      guard v > 0 else { continue }
      last = row
      running += v
      while next < order.count && running > targets[order[next]] {
        rows[order[next]] = row
        next += 1
      }
    }
    while next < order.count {
      rows[order[next]] = last
      next += 1
    }
    return rows
  }

  /// Sets each row's potential `ρ min(D², ‖x − c‖²)` for the new centre `c`
  /// (the last `columns` values of `centre`) and returns the total; `first`:
  /// the potentials start here, and each row's `‖x‖²` is kept.
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
          if first {
            let x = block.layout == .dense ? block.denseRow(row) : block.sparseRow(row).values
            state.norms[row] = Dense.squaredNorm(x)
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
  /// worker then over the workers in worker order; each row's `ρ‖x − t‖²`
  /// is kept in `distances[row · trials + t]`.
  private func candidatePotentials(
    _ panel: CentrePanel, trials: Int, into partial: UnsafeMutablePointer<Double>,
    keeping distances: UnsafeMutablePointer<Float>
  ) throws -> [Double] {
    let state = state
    let block = block
    let assignments = assignments
    let partials = UnsafeSendable(partial)
    let kept = UnsafeSendable(distances)
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
              let norm = state.norms[row]
              let weight = block.weight(row)
              let current = state.potential[row]
              for t in 0..<trials {
                let distance = weight * max(norm + scores[slot * 16 + t], 0)
                kept.value[row * trials + t] = distance
                sums[t] += Double(min(current, distance))
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
