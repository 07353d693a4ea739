import SeededRandom
import Testing

@testable import Engine

/// The merge of sparse and AdaGrad replicas, against a Double reference
/// written here, on more replicas than this machine has cores (the trainer
/// cannot run 16 replicas on 2 cores; the rule is the same).
@Suite struct ReplicaMergeTests {
  /// Replicas × coordinates, each replica moving a random subset of the
  /// coordinates from a common base.
  struct Case {
    var base: [Float]
    var replicas: [[Float]]
  }

  func makeCase(replicas count: Int, coordinates: Int, seed: UInt64) -> Case {
    var random = SplitMix64(seed: seed)
    let base = (0..<coordinates).map { _ in Float(Double.random(in: 0..<1, using: &random) * 2 - 1) }
    let replicas = (0..<count).map { _ in
      base.map { value in
        Double.random(in: 0..<1, using: &random) < 0.4
          ? value + Float(Double.random(in: 0..<1, using: &random) - 0.5) : value
      }
    }
    return Case(base: base, replicas: replicas)
  }

  /// Each replica's values in memory of its own (the caller deallocates).
  func copies(of replicas: [[Float]]) -> [UnsafeMutablePointer<Float>] {
    replicas.map { values in
      let pointer = UnsafeMutablePointer<Float>.allocate(capacity: values.count)
      pointer.initialize(from: values, count: values.count)
      return pointer
    }
  }

  /// Runs the merge on copies and returns (base, replicas) after it.
  func merged(
    _ input: Case, weightCount: Int, penalties: [LazyPenalty]? = nil
  ) -> (base: [Float], replicas: [[Float]]) {
    var base = input.base
    var replicas = input.replicas
    let count = input.base.count
    base.withUnsafeMutableBufferPointer { base in
      let pointers = copies(of: replicas)
      defer { pointers.forEach { $0.deallocate() } }
      let totals = UnsafeMutablePointer<Float>.allocate(capacity: 2 * count)
      defer { totals.deallocate() }
      let merge = ReplicaMerge(
        base: base.baseAddress!, replicas: pointers, weightCount: weightCount, totals: totals,
        coordinates: count, replicasEverywhere: pointers.count)
      merge.gather(
        0..<count, penalised: penalties == nil ? 0..<0 : 0..<weightCount,
        penalties: penalties ?? Array(repeating: LazyPenalty(decay: 1, clip: 0), count: pointers.count))
      merge.apply(0..<count, rule: .capped)
      for r in replicas.indices { replicas[r] = Array(UnsafeBufferPointer(start: pointers[r], count: count)) }
    }
    return (base, replicas)
  }

  @Test(
    "a weight moves by its movers' changes added up for up to two, twice their mean beyond; intercepts by the mean"
  )
  func ruleAgainstDoubleReference() {
    for count in [2, 3, 4, 8, 16] {
      let input = makeCase(replicas: count, coordinates: 257, seed: UInt64(count))
      let weightCount = 250
      let (base, replicas) = merged(input, weightCount: weightCount)
      for j in input.base.indices {
        let before = Double(input.base[j])
        let changes = input.replicas.map { Double($0[j]) - before }.filter { $0 != 0 }
        let total = changes.reduce(0, +)
        let expected: Double
        if changes.isEmpty {
          expected = before
        } else if j >= weightCount {
          expected = before + total / Double(changes.count)
        } else {
          expected = before + total / max(1, Double(changes.count) / 2)
        }
        #expect(abs(Double(base[j]) - expected) <= 1e-5, "replicas \(count), coordinate \(j)")
        for r in replicas.indices { #expect(replicas[r][j] == base[j]) }
      }
    }
  }

  @Test("one mover keeps its whole change; sixteen equal moves give twice one move, not sixteen times")
  func boundedOvershoot() {
    var input = Case(base: [1, 1, 1], replicas: Array(repeating: [1, 1, 1], count: 16))
    input.replicas[5][0] = 1.5  // only replica 5 moved weight 0
    for r in 0..<16 { input.replicas[r][1] = 1.25 }  // every replica moved weight 1 alike
    input.replicas[2][2] = 0.5  // two movers: their changes add up
    input.replicas[9][2] = 0.75
    let (base, _) = merged(input, weightCount: 3)
    #expect(base[0] == 1.5)
    #expect(base[1] == 1.5)
    #expect(base[2] == 0.25)
  }

  @Test("regularisation: an unmoved weight takes every replica's decay, as a shared model would")
  func penaltiesOfUnmovedWeights() {
    let input = Case(base: [2, 2], replicas: Array(repeating: [2, 2], count: 4))
    let penalties = Array(repeating: LazyPenalty(decay: 0.9, clip: 0), count: 4)
    let (base, _) = merged(input, weightCount: 2, penalties: penalties)
    // 2 + 4 × (0.9 × 2 − 2) = 1.2
    #expect(abs(base[0] - 1.2) < 1e-6)
  }

  @Test("dense rows: the mean of every replica, over processes too")
  func average() {
    let input = makeCase(replicas: 4, coordinates: 20, seed: 5)
    let pointers = copies(of: input.replicas)
    defer { pointers.forEach { $0.deallocate() } }
    let totals = UnsafeMutablePointer<Float>.allocate(capacity: 40)
    defer { totals.deallocate() }
    // As if 2 processes of 4 replicas each, the other holding the same values.
    let merge = ReplicaMerge(
      base: nil, replicas: pointers, weightCount: 19, totals: totals, coordinates: 20, replicasEverywhere: 8)
    merge.gather(0..<20, penalised: 0..<0, penalties: [])
    for j in 0..<20 { totals[j] *= 2 }  // what summing over the 2 processes gives
    merge.apply(0..<20, rule: .average)
    for j in 0..<20 {
      let mean = input.replicas.map { Double($0[j]) }.reduce(0, +) / 4
      #expect(abs(Double(pointers[0][j]) - mean) <= 1e-6)
    }
  }

  @Test("AdaGrad's sums add up every replica's squared gradients")
  func sumsAddUp() {
    let input = makeCase(replicas: 8, coordinates: 40, seed: 3)
    var base = input.base
    let pointers = copies(of: input.replicas)
    defer { pointers.forEach { $0.deallocate() } }
    let totals = UnsafeMutablePointer<Float>.allocate(capacity: 80)
    defer { totals.deallocate() }
    base.withUnsafeMutableBufferPointer { base in
      let merge = ReplicaMerge(
        base: base.baseAddress!, replicas: pointers, weightCount: 40, totals: totals, coordinates: 40,
        replicasEverywhere: pointers.count)
      merge.gather(0..<40, penalised: 0..<0, penalties: [])
      merge.apply(0..<40, rule: .sum)
    }
    for j in 0..<40 {
      let expected =
        Double(input.base[j]) + input.replicas.map { Double($0[j]) - Double(input.base[j]) }.reduce(0, +)
      #expect(abs(Double(base[j]) - expected) <= 1e-5)
      for pointer in pointers { #expect(pointer[j] == base[j]) }
    }
  }

  @Test(
    "the one-process merge, eight weights at a time, equals gather-then-apply one at a time to the bit",
    arguments: [ReplicaMerge.Rule.capped, .sum, .average])
  func eightAtATimeEqualsOneAtATime(rule: ReplicaMerge.Rule) {
    let coordinates = 203
    let weightCount = 197
    for (count, slice, penalised) in [
      (2, 0..<203, 0..<0), (3, 5..<150, 0..<197), (5, 1..<203, 13..<91), (16, 64..<200, 70..<71),
    ] {
      let input = makeCase(replicas: count, coordinates: coordinates, seed: UInt64(count * 31))
      var random = SplitMix64(seed: UInt64(count))
      let penalties = (0..<count).map { _ in
        LazyPenalty(
          decay: Float(0.9 + Double.random(in: 0..<0.1, using: &random)),
          clip: Double.random(in: 0..<1, using: &random) < 0.5 ? 0 : 0.01)
      }
      // Both paths from the same start: `merge` in one pass, `gather` + `apply` one coordinate at a time.
      var results: [[Float]] = []
      for onePass in [true, false] {
        var base = input.base
        let pointers = copies(of: input.replicas)
        defer { pointers.forEach { $0.deallocate() } }
        let totals = UnsafeMutablePointer<Float>.allocate(capacity: 2 * coordinates)
        defer { totals.deallocate() }
        base.withUnsafeMutableBufferPointer { base in
          let merge = ReplicaMerge(
            base: rule == .average ? nil : base.baseAddress!, replicas: pointers, weightCount: weightCount,
            totals: totals, coordinates: coordinates, replicasEverywhere: count)
          if onePass {
            merge.merge(slice, penalised: penalised, penalties: penalties, rule: rule)
          } else {
            merge.gather(slice, penalised: penalised, penalties: penalties)
            merge.apply(slice, rule: rule)
          }
        }
        results.append(base + pointers.flatMap { Array(UnsafeBufferPointer(start: $0, count: coordinates)) })
      }
      #expect(
        results[0].map(\.bitPattern) == results[1].map(\.bitPattern),
        "\(count) replicas, slice \(slice), penalised \(penalised)")
    }
  }
}
