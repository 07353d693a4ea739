import SeededRandom
import Testing

@testable import Kernels

/// The distance kernels against a Double twin: brute-force squared
/// distances to every centre, the nearest and second nearest by them.
@Suite struct DistancesTests {
  /// Rows and centres with values in [−4, 4), some rows copies of centres
  /// (distance 0) so ties and cancellation are exercised.
  struct Problem {
    let rows: [[Float]]
    let centres: [[Float]]

    init(rows: Int, columns: Int, clusters: Int, seed: UInt64) {
      var rng = SplitMix64(seed: seed)
      func value() -> Float { Float(rng.next(below: 1 << 20)) / Float(1 << 17) - 4 }
      let centres = (0..<clusters).map { _ in (0..<columns).map { _ in value() } }
      self.centres = centres
      self.rows = (0..<rows).map { row in
        row % 5 == 0 ? centres[row % clusters] : (0..<columns).map { _ in value() }
      }
    }

    /// Squared distances in Double, row to every centre.
    func distances(_ row: [Float]) -> [Double] {
      centres.map { centre in
        zip(row, centre).reduce(0.0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) }
      }
    }

    /// Runs `body` with a loaded panel.
    func withPanel<T>(_ body: (CentrePanel) -> T) -> T {
      let columns = rows[0].count
      var memory = [Float](
        repeating: .nan, count: CentrePanel.floats(centres: centres.count, columns: columns))
      return memory.withUnsafeMutableBufferPointer { buffer in
        let panel = CentrePanel(centres: centres.count, columns: columns, memory: buffer.baseAddress!)
        centres.flatMap { $0 }.withUnsafeBufferPointer { panel.load($0.baseAddress!) }
        return body(panel)
      }
    }
  }

  /// The kernel's choice must be a nearest centre up to Float rounding of
  /// the expanded form, and its scores must match the Double distances.
  func check(_ found: NearestCentre, row: [Float], problem: Problem) {
    let exact = problem.distances(row)
    let norm = row.reduce(0.0) { $0 + Double($1) * Double($1) }
    let scale = 1e-5 * (norm + exact.max()! + 1)
    let sorted = exact.sorted()
    #expect(exact[Int(found.centre)] <= sorted[0] + scale, "centre \(found.centre) is not the nearest")
    #expect(abs(norm + Double(found.score) - sorted[0]) <= scale, "nearest distance off")
    let second = sorted.count > 1 ? sorted[1] : .infinity
    if second.isFinite {
      #expect(abs(norm + Double(found.secondScore) - second) <= scale, "second distance off")
    } else {
      #expect(found.secondScore == .infinity)
    }
  }

  @Test(arguments: [(1, 1), (3, 5), (8, 64), (9, 7), (16, 8), (17, 13), (40, 64), (33, 3)])
  func denseNearestMatchesBruteForce(clusters: Int, columns: Int) {
    let problem = Problem(
      rows: 23, columns: columns, clusters: clusters, seed: UInt64(clusters * 100 + columns))
    problem.withPanel { panel in
      for start in stride(from: 0, to: problem.rows.count, by: Distances.group) {
        let count = min(Distances.group, problem.rows.count - start)
        let rows = problem.rows[start..<start + count].map { row in
          let copy = UnsafeMutablePointer<Float>.allocate(capacity: row.count)
          copy.initialize(from: row, count: row.count)
          return UnsafePointer(copy)
        }
        defer { rows.forEach { $0.deallocate() } }
        let none = NearestCentre(centre: -1, score: 0, secondScore: 0)
        var found = [NearestCentre](repeating: none, count: Distances.group)
        // Both kernels, whichever nearest() picks for this k: the same answers to the bit.
        var eights = found
        var fours = found
        rows.withUnsafeBufferPointer { pointers in
          let group = pointers.baseAddress!
          Distances.nearest(dense: group, count: count, panel: panel, into: &found)
          Distances.nearestInEights(dense: group, count: count, panel: panel, into: &eights)
          Distances.nearestInFours(dense: group, count: min(count, 4), panel: panel, into: &fours)
          if count > 4 {
            fours.withUnsafeMutableBufferPointer {
              Distances.nearestInFours(
                dense: group + 4, count: count - 4, panel: panel, into: $0.baseAddress! + 4)
            }
          }
        }
        for slot in 0..<count {
          check(found[slot], row: problem.rows[start + slot], problem: problem)
          #expect(eights[slot] == found[slot] && fours[slot] == found[slot], "row \(start + slot)")
        }
      }
    }
  }

  @Test(arguments: [(1, 7), (5, 30), (20, 100)])
  func sparseNearestMatchesBruteForce(clusters: Int, columns: Int) {
    var problem = Problem(rows: 19, columns: columns, clusters: clusters, seed: 5)
    // Keep every third value of each row (zeros elsewhere) to make it sparse.
    problem = Problem(
      rows: problem.rows.map { row in row.enumerated().map { $0 % 3 == 0 ? $1 : 0 } },
      centres: problem.centres)
    problem.withPanel { panel in
      let scratch = UnsafeMutablePointer<Float>.allocate(capacity: panel.width)
      defer { scratch.deallocate() }
      for row in problem.rows {
        let indices = row.indices.filter { row[$0] != 0 }.map(Int32.init)
        let values = indices.map { row[Int($0)] }
        let found = indices.withUnsafeBufferPointer { i in
          values.withUnsafeBufferPointer { v in
            Distances.nearest(sparse: i, values: v, panel: panel, scratch: scratch)
          }
        }
        check(found, row: row, problem: problem)
        // The exact distance and the sums' update, against Double.
        let centre = problem.centres[Int(found.centre)]
        let norm = centre.reduce(0.0) { $0 + Double($1) * Double($1) }
        var sums = [Double](repeating: 1, count: columns)
        let distance = indices.withUnsafeBufferPointer { i in
          values.withUnsafeBufferPointer { v in
            Distances.accumulate(
              sparse: i, values: v, centre: centre, centreNorm: norm, weight: 2, into: &sums)
          }
        }
        let exact = problem.distances(row)[Int(found.centre)]
        #expect(abs(Double(distance) - exact) <= 1e-5 * (exact + 1))
        for j in 0..<columns { #expect(sums[j] == 1 + 2 * Double(row[j])) }
      }
    }
  }

  @Test(arguments: [5, 16, 20])
  func denseScoresMatchDouble(clusters: Int) {
    let problem = Problem(rows: 3, columns: 11, clusters: clusters, seed: 17)
    problem.withPanel { panel in
      let rows = problem.rows.map { row in
        let copy = UnsafeMutablePointer<Float>.allocate(capacity: row.count)
        copy.initialize(from: row, count: row.count)
        return UnsafePointer(copy)
      }
      defer { rows.forEach { $0.deallocate() } }
      var scores = [Float](repeating: .nan, count: 64)
      for block in 0..<(clusters + 15) / 16 {
        rows.withUnsafeBufferPointer {
          Distances.scores(dense: $0.baseAddress!, count: 3, panel: panel, block: block, into: &scores)
        }
        for (r, row) in problem.rows.enumerated() {
          let exact = problem.distances(row)
          let norm = row.reduce(0.0) { $0 + Double($1) * Double($1) }
          for i in 0..<16 {
            let c = block * 16 + i
            if c < clusters {
              #expect(abs(norm + Double(scores[16 * r + i]) - exact[c]) <= 1e-5 * (norm + exact[c] + 1))
            } else {
              #expect(scores[16 * r + i] == .infinity, "a padding centre scores +∞")
            }
          }
        }
      }
    }
  }

  @Test func denseAccumulateMatchesDouble() {
    for columns in [1, 7, 8, 9, 64, 70] {
      let problem = Problem(rows: 3, columns: columns, clusters: 2, seed: UInt64(columns))
      for row in problem.rows {
        var sums = [Float](repeating: 0.5, count: columns)
        let distance = Distances.accumulate(
          dense: row, centre: problem.centres[1], columns: columns, weight: 0.25, into: &sums)
        let exact = problem.distances(row)[1]
        #expect(abs(Double(distance) - exact) <= 1e-5 * (exact + 1), "columns \(columns)")
        #expect(
          abs(
            Double(Distances.squaredDistance(dense: row, centre: problem.centres[1], columns: columns))
              - exact)
            <= 1e-5 * (exact + 1))
        // One fused multiply-add a value: s + w x rounded once.
        for j in 0..<columns { #expect(sums[j] == Float(0.5 + 0.25 * Double(row[j]))) }
      }
    }
  }

  @Test func tiesGoToTheLowestCentre() {
    // Two identical centres, and a third far away: every row's nearest is centre 0.
    let problem = Problem(rows: [[1, 2], [0, 0], [5, 5], [-1, 3]], centres: [[9, 9], [1, 1], [1, 1]])
    problem.withPanel { panel in
      let rows = problem.rows.map { row in
        let copy = UnsafeMutablePointer<Float>.allocate(capacity: 2)
        copy.initialize(from: row, count: 2)
        return UnsafePointer(copy)
      }
      defer { rows.forEach { $0.deallocate() } }
      var found = [NearestCentre](repeating: NearestCentre(centre: -1, score: 0, secondScore: 0), count: 4)
      rows.withUnsafeBufferPointer {
        Distances.nearest(dense: $0.baseAddress!, count: 4, panel: panel, into: &found)
      }
      #expect(found.map(\.centre) == [1, 1, 0, 1])
      #expect(found[0].score == found[0].secondScore, "a tie's second score equals its first")
    }
  }
}

extension DistancesTests.Problem {
  init(rows: [[Float]], centres: [[Float]]) {
    self.rows = rows
    self.centres = centres
  }
}

extension DistancesTests {
  @Test func withoutTheSecondTheNearestIsTheSame() {
    let problem = Problem(rows: 4, columns: 9, clusters: 21, seed: 4)
    problem.withPanel { panel in
      let rows = problem.rows.map { row in
        let copy = UnsafeMutablePointer<Float>.allocate(capacity: row.count)
        copy.initialize(from: row, count: row.count)
        return UnsafePointer(copy)
      }
      defer { rows.forEach { $0.deallocate() } }
      var both = [NearestCentre](repeating: NearestCentre(centre: -1, score: 0, secondScore: 0), count: 4)
      var first = both
      rows.withUnsafeBufferPointer {
        Distances.nearest(dense: $0.baseAddress!, count: 4, panel: panel, into: &both)
        Distances.nearest(dense: $0.baseAddress!, count: 4, panel: panel, into: &first, second: false)
      }
      #expect(
        zip(both, first).allSatisfy { $0.centre == $1.centre && $0.score == $1.score && $1.secondScore.isNaN }
      )
    }
  }
}
