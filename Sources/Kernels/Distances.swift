import CVectorMath

/// K-means centres laid out for ``Distances``: column-major, so that one
/// feature's value in sixteen consecutive centres is two vector loads.
///
/// For `k` centres of `d` features the panel holds `d × width` floats, where
/// `width` is `k` rounded up to a multiple of 16: `values[j·width + c]` is
/// centre `c`'s feature `j`. The `width` norms `‖c‖²` follow; a padding
/// centre has values 0 and norm +∞, so it is never the nearest.
///
/// The panel does not own its memory: `memory` must hold
/// ``floats(centres:columns:)`` floats and outlive it. It is written by
/// ``load(_:)`` only, between passes that read it.
public struct CentrePanel: @unchecked Sendable {
  /// k, the real centres.
  public let centres: Int
  /// d, the features.
  public let columns: Int
  /// `k` rounded up to a multiple of 16.
  public let width: Int
  /// `columns × width` floats, then `width` squared norms.
  public let values: UnsafeMutablePointer<Float>

  /// The floats a panel of `centres` centres over `columns` features needs.
  public static func floats(centres: Int, columns: Int) -> Int {
    (centres + 15) / 16 * 16 * (columns + 1)
  }

  /// A panel over `memory`, which must hold ``floats(centres:columns:)``
  /// floats; call ``load(_:)`` before reading it.
  public init(centres: Int, columns: Int, memory: UnsafeMutablePointer<Float>) {
    precondition(centres >= 1 && columns >= 0, "a panel of \(centres) centres and \(columns) features")
    self.centres = centres
    self.columns = columns
    width = (centres + 15) / 16 * 16
    values = memory
  }

  /// The squared norms `‖c‖²`, `width` of them.
  public var norms: UnsafeMutablePointer<Float> { values + columns * width }

  /// Copies `centres` (`k × d` floats, centre-major) into the panel and
  /// computes their squared norms (in Double, rounded once).
  public func load(_ source: UnsafePointer<Float>) {
    for c in 0..<width {
      var norm = 0.0
      for j in 0..<columns {
        let value = c < centres ? source[c &* columns &+ j] : 0
        values[j &* width &+ c] = value
        norm += Double(value) * Double(value)
      }
      norms[c] = c < centres ? Float(norm) : .infinity
    }
  }
}

/// The nearest centre of a row, and how near the next one is, as scores
/// `‖c‖² − 2 x·c`: the squared distance less `‖x‖²`, which every centre
/// shares.
public struct NearestCentre: Sendable, Equatable {
  /// The nearest centre's index (the lowest of equally near ones).
  public var centre: Int32
  /// Its score; the squared distance is `‖x‖² + score` (up to rounding,
  /// which can make it slightly negative for a row on its centre).
  public var score: Float
  /// The second nearest centre's score (+∞ for one centre; NaN when not asked for).
  public var secondScore: Float

  /// A result with the given fields.
  public init(centre: Int32, score: Float, secondScore: Float) {
    self.centre = centre
    self.score = score
    self.secondScore = secondScore
  }
}

/// Distances from rows to k-means centres: the blocked kernel behind every
/// assignment step.
///
/// Squared distances are expanded as `‖x‖² − 2 x·c + ‖c‖²`, so the work is
/// the products `x·c`: for dense rows, eight rows against eight centres or
/// four rows against sixteen, eight accumulators of eight lanes held in
/// registers over the features; for sparse rows, one scaled panel
/// row added per non-zero. Products run feature by feature in each lane, so
/// a row's scores do not depend on which rows share its group.
public enum Distances {
  /// Scores `‖c‖² − 2 x·c` of rows `rows[0..<count]` (dense, `panel.columns`
  /// floats each; `count` from 1 to 4) against centres `16·block ..< 16·block + 16`,
  /// written to `scores[16·r + i]`.
  public static func scores(
    dense rows: UnsafePointer<UnsafePointer<Float>>, count: Int, panel: CentrePanel, block: Int,
    into scores: UnsafeMutablePointer<Float>
  ) {
    precondition(count >= 1 && count <= 4, "a group of \(count) rows")
    precondition(block >= 0 && block * 16 < panel.width, "block \(block) of a panel \(panel.width) wide")
    blockScores(
      rows[0], rows[min(1, count - 1)], rows[min(2, count - 1)], rows[min(3, count - 1)], panel: panel,
      block: block, into: scores)
  }

  /// Dense rows ``nearest(dense:count:panel:into:second:)`` takes at once.
  public static let group = 8

  /// The nearest centre to each of rows `rows[0..<count]` (dense,
  /// `panel.columns` floats each; `count` from 1 to ``group``), into
  /// `nearest[0..<count]`. With `second` false the second nearest is not
  /// looked for (its score is NaN): less work a row for Lloyd's iteration,
  /// which has no use for it.
  ///
  /// Two kernels, the same scores (products summed feature by feature in each
  /// lane, so a row's scores do not depend on the rows beside it): eight
  /// centres at a time (``nearestInEights``) when the centres' last block of
  /// sixteen would be half padding (k = 8, 24, …: k = 8 is twice as fast so),
  /// else sixteen at a time (``nearestInFours``, which loads less per
  /// multiply-add: 5% faster at k = 256).
  public static func nearest(
    dense rows: UnsafePointer<UnsafePointer<Float>>, count: Int, panel: CentrePanel,
    into nearest: UnsafeMutablePointer<NearestCentre>, second: Bool = true
  ) {
    precondition(count >= 1 && count <= group, "a group of \(count) rows")
    if (panel.centres + 7) / 8 < panel.width / 8 {
      nearestInEights(dense: rows, count: count, panel: panel, into: nearest, second: second)
    } else {
      nearestInFours(dense: rows, count: min(count, 4), panel: panel, into: nearest, second: second)
      if count > 4 {
        nearestInFours(dense: rows + 4, count: count - 4, panel: panel, into: nearest + 4, second: second)
      }
    }
  }

  /// ``nearest(dense:count:panel:into:second:)`` for up to four rows, sixteen
  /// centres at a time: four rows × sixteen centres in eight accumulators,
  /// each feature two panel loads, four broadcasts and eight fused
  /// multiply-adds; each row's sixteen lanes then reduced to its nearest
  /// centre (``NearestTracker``).
  static func nearestInFours(
    dense rows: UnsafePointer<UnsafePointer<Float>>, count: Int, panel: CentrePanel,
    into nearest: UnsafeMutablePointer<NearestCentre>, second: Bool = true
  ) {
    precondition(count >= 1 && count <= 4, "a group of \(count) rows")
    let x0 = rows[0]
    let x1 = rows[min(1, count - 1)]
    let x2 = rows[min(2, count - 1)]
    let x3 = rows[min(3, count - 1)]
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 64) { buffer in
      let scores = buffer.baseAddress!
      var t0 = NearestTracker()
      var t1 = NearestTracker()
      var t2 = NearestTracker()
      var t3 = NearestTracker()
      // Preconditions: every row holds panel.columns floats; the panel is loaded.
      for block in 0..<(panel.width / 16) {
        blockScores(x0, x1, x2, x3, panel: panel, block: block, into: scores)
        t0.offer(scores, block: block)
        t1.offer(scores + 16, block: block)
        t2.offer(scores + 32, block: block)
        t3.offer(scores + 48, block: block)
      }
      nearest[0] = t0.result(second: second)
      if count > 1 { nearest[1] = t1.result(second: second) }
      if count > 2 { nearest[2] = t2.result(second: second) }
      if count > 3 { nearest[3] = t3.result(second: second) }
    }
  }

  /// ``nearest(dense:count:panel:into:second:)`` eight centres at a time: eight accumulators of eight
  /// lanes (one per row, a lane per centre) over the features, each feature
  /// one panel load, eight broadcasts and eight fused multiply-adds; then
  /// the 8 × 8 scores are transposed (``cvectormath_transpose8``) so that a
  /// lane is a row, and the nearest centre is tracked lane by lane with
  /// vertical compares only, no reduction across lanes for any row.
  static func nearestInEights(
    dense rows: UnsafePointer<UnsafePointer<Float>>, count: Int, panel: CentrePanel,
    into nearest: UnsafeMutablePointer<NearestCentre>, second: Bool = true
  ) {
    precondition(count >= 1 && count <= group, "a group of \(count) rows")
    let x0 = rows[0]
    let x1 = rows[min(1, count - 1)]
    let x2 = rows[min(2, count - 1)]
    let x3 = rows[min(3, count - 1)]
    let x4 = rows[min(4, count - 1)]
    let x5 = rows[min(5, count - 1)]
    let x6 = rows[min(6, count - 1)]
    let x7 = rows[min(7, count - 1)]
    // Per row (a lane each): the nearest centre so far, its score, and the second lowest score.
    var best = SIMD8<Float>(repeating: .infinity)
    var next = SIMD8<Float>(repeating: .infinity)
    var centre = SIMD8<Int32>()
    let width = panel.width
    let two = SIMD8<Float>(repeating: -2)
    // Preconditions: every row holds panel.columns floats; the panel is loaded
    // and `width` (a multiple of 16) floats wide. Blocks of padding centres alone are skipped.
    for block in 0..<((panel.centres + 7) / 8) {
      var column = UnsafePointer(panel.values + block &* 8)
      var a0 = SIMD8<Float>()
      var a1 = SIMD8<Float>()
      var a2 = SIMD8<Float>()
      var a3 = SIMD8<Float>()
      var a4 = SIMD8<Float>()
      var a5 = SIMD8<Float>()
      var a6 = SIMD8<Float>()
      var a7 = SIMD8<Float>()
      for j in 0..<panel.columns {
        // pᵣ[c] ← pᵣ[c] + xᵣ[j] · panel[j][c] for eight centres c
        let centres = load8(column, 0)
        a0.addProduct(SIMD8(repeating: x0[j]), centres)
        a1.addProduct(SIMD8(repeating: x1[j]), centres)
        a2.addProduct(SIMD8(repeating: x2[j]), centres)
        a3.addProduct(SIMD8(repeating: x3[j]), centres)
        a4.addProduct(SIMD8(repeating: x4[j]), centres)
        a5.addProduct(SIMD8(repeating: x5[j]), centres)
        a6.addProduct(SIMD8(repeating: x6[j]), centres)
        a7.addProduct(SIMD8(repeating: x7[j]), centres)
        column += width
      }
      // scoreᵣ[c] = ‖c‖² − 2 pᵣ[c], then lanes ↔ registers: register c holds centre c's rows.
      let norms = load8(UnsafePointer(panel.norms), block &* 8)
      var scores = (
        norms.addingProduct(two, a0), norms.addingProduct(two, a1), norms.addingProduct(two, a2),
        norms.addingProduct(two, a3), norms.addingProduct(two, a4), norms.addingProduct(two, a5),
        norms.addingProduct(two, a6), norms.addingProduct(two, a7)
      )
      withUnsafeMutablePointer(to: &scores) {
        $0.withMemoryRebound(to: Float.self, capacity: 64) { cvectormath_transpose8($0) }
      }
      // Centre c's scores, a lane per row, in centre order: a strict < keeps the
      // lowest of equally near centres.
      withUnsafeBytes(of: &scores) { registers in
        for c in 0..<8 {
          let score = registers.load(fromByteOffset: c &* 32, as: SIMD8<Float>.self)
          let nearer = score .< best
          if second { next = lanewiseMin(next, lanewiseMax(best, score)) }
          centre.replace(with: SIMD8(repeating: Int32(truncatingIfNeeded: block &* 8 &+ c)), where: nearer)
          best.replace(with: score, where: nearer)
        }
      }
    }
    // Scores that are all NaN (squares past Float's range) are never nearer: centre 0
    // then, so the answer is always a real centre.
    for r in 0..<count {
      nearest[r] = NearestCentre(centre: centre[r], score: best[r], secondScore: second ? next[r] : .nan)
    }
  }

  /// Scores `‖c‖² − 2 x·c` of one sparse row against every centre of the
  /// panel, into `scores[0..<panel.width]`. Indices must be below `panel.columns`.
  public static func scores(
    sparse indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>, panel: CentrePanel,
    into scores: UnsafeMutablePointer<Float>
  ) {
    precondition(indices.count == values.count, "one value per index")
    let width = panel.width
    let two = SIMD8<Float>(repeating: -2)
    var c = 0
    while c < width {
      store8(SIMD8<Float>(), scores, c)
      c &+= 8
    }
    // p ← Σ_(j, v) v · panel[j]: one scaled panel row per non-zero.
    // Preconditions: every index < panel.columns (checked rows); scores holds width floats.
    for k in 0..<indices.count {
      let j = Int(indices[k])
      assert(j >= 0 && j < panel.columns, "index \(j) out of 0..<\(panel.columns)")
      let v = SIMD8<Float>(repeating: values[k])
      let row = UnsafePointer(panel.values + j &* width)
      c = 0
      while c < width {
        store8(load8(scores, c).addingProduct(v, load8(row, c)), scores, c)
        c &+= 8
      }
    }
    // score = ‖c‖² − 2 p
    let norms = UnsafePointer(panel.norms)
    c = 0
    while c < width {
      store8(load8(norms, c).addingProduct(two, load8(scores, c)), scores, c)
      c &+= 8
    }
  }

  /// The nearest centre to one sparse row; `scratch` holds `panel.width` floats.
  public static func nearest(
    sparse indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>, panel: CentrePanel,
    scratch: UnsafeMutablePointer<Float>
  ) -> NearestCentre {
    scores(sparse: indices, values: values, panel: panel, into: scratch)
    var tracker = NearestTracker()
    for block in 0..<(panel.width / 16) { tracker.offer(scratch + block &* 16, block: block) }
    return tracker.result()
  }

  /// The micro-kernel: four rows × sixteen centres, products summed over
  /// the features in eight registers, then `‖c‖² − 2 x·c` stored row by row.
  @inline(__always)
  static func blockScores(
    _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>, _ x2: UnsafePointer<Float>,
    _ x3: UnsafePointer<Float>, panel: CentrePanel, block: Int, into scores: UnsafeMutablePointer<Float>
  ) {
    let width = panel.width
    var column = UnsafePointer(panel.values + block &* 16)
    var a0 = SIMD8<Float>()
    var b0 = SIMD8<Float>()
    var a1 = SIMD8<Float>()
    var b1 = SIMD8<Float>()
    var a2 = SIMD8<Float>()
    var b2 = SIMD8<Float>()
    var a3 = SIMD8<Float>()
    var b3 = SIMD8<Float>()
    // Preconditions: each row holds panel.columns floats; column walks the
    // panel's rows j = 0..<columns, sixteen centres each, inside values.
    for j in 0..<panel.columns {
      // pᵣ[c] ← pᵣ[c] + xᵣ[j] · panel[j][c] for sixteen centres c
      let low = load8(column, 0)
      let high = load8(column, 8)
      let v0 = SIMD8<Float>(repeating: x0[j])
      a0.addProduct(v0, low)
      b0.addProduct(v0, high)
      let v1 = SIMD8<Float>(repeating: x1[j])
      a1.addProduct(v1, low)
      b1.addProduct(v1, high)
      let v2 = SIMD8<Float>(repeating: x2[j])
      a2.addProduct(v2, low)
      b2.addProduct(v2, high)
      let v3 = SIMD8<Float>(repeating: x3[j])
      a3.addProduct(v3, low)
      b3.addProduct(v3, high)
      column += width
    }
    let norms = UnsafePointer(panel.norms + block &* 16)
    let nLow = load8(norms, 0)
    let nHigh = load8(norms, 8)
    let two = SIMD8<Float>(repeating: -2)
    store8(nLow.addingProduct(two, a0), scores, 0)
    store8(nHigh.addingProduct(two, b0), scores, 8)
    store8(nLow.addingProduct(two, a1), scores, 16)
    store8(nHigh.addingProduct(two, b1), scores, 24)
    store8(nLow.addingProduct(two, a2), scores, 32)
    store8(nHigh.addingProduct(two, b2), scores, 40)
    store8(nLow.addingProduct(two, a3), scores, 48)
    store8(nHigh.addingProduct(two, b3), scores, 56)
  }
}

/// The two lowest scores seen in each of sixteen lanes (lane `i` sees
/// centres `16·block + i`), and the centre of the lowest; reduced over the
/// lanes at the end.
struct NearestTracker {
  var bestLow = SIMD8<Float>(repeating: .infinity)
  var bestHigh = SIMD8<Float>(repeating: .infinity)
  var secondLow = SIMD8<Float>(repeating: .infinity)
  var secondHigh = SIMD8<Float>(repeating: .infinity)
  var blockLow = SIMD8<Int32>()
  var blockHigh = SIMD8<Int32>()

  /// Takes sixteen scores of centres `16·block ..< 16·block + 16`.
  @inline(__always)
  mutating func offer(_ scores: UnsafePointer<Float>, block: Int) {
    let low = load8(scores, 0)
    let high = load8(scores, 8)
    let index = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: block))
    // second ← min(second, max(best, s)); best ← min(best, s), remembering the block
    secondLow = lanewiseMin(secondLow, lanewiseMax(bestLow, low))
    secondHigh = lanewiseMin(secondHigh, lanewiseMax(bestHigh, high))
    blockLow.replace(with: index, where: low .< bestLow)
    blockHigh.replace(with: index, where: high .< bestHigh)
    bestLow = lanewiseMin(bestLow, low)
    bestHigh = lanewiseMin(bestHigh, high)
  }

  /// The lowest score over the lanes (the lowest centre on ties) and the
  /// second lowest: the chosen lane's second, or another lane's best. All
  /// in vector registers: a lane's centre is `16·block + lane`.
  @inline(__always)
  func result(second wanted: Bool = true) -> NearestCentre {
    let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
    let centreLow = blockLow &* 16 &+ lanes
    let centreHigh = blockHigh &* 16 &+ lanes &+ 8
    let best = smallest(lanewiseMin(bestLow, bestHigh))
    let none = SIMD8<Int32>(repeating: .max)
    let atBest = lowest(
      min8(
        none.replacing(with: centreLow, where: bestLow .== SIMD8(repeating: best)),
        none.replacing(with: centreHigh, where: bestHigh .== SIMD8(repeating: best))))
    guard wanted else {
      return NearestCentre(centre: atBest == .max ? 0 : atBest, score: best, secondScore: .nan)
    }
    let chosen = SIMD8<Int32>(repeating: atBest)
    let infinity = SIMD8<Float>(repeating: .infinity)
    // Every lane's best but the chosen centre's, and every lane's second.
    let others = lanewiseMin(
      bestLow.replacing(with: infinity, where: centreLow .== chosen),
      bestHigh.replacing(with: infinity, where: centreHigh .== chosen))
    let second = smallest(lanewiseMin(others, lanewiseMin(secondLow, secondHigh)))
    // Scores that are all NaN (squares past Float's range) match no lane: centre 0
    // then, so the answer is always a real centre.
    return NearestCentre(centre: atBest == .max ? 0 : atBest, score: best, secondScore: second)
  }

  @inline(__always)
  private func smallest(_ v: SIMD8<Float>) -> Float {
    let four = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .< v.lowHalf)
    let two = four.lowHalf.replacing(with: four.highHalf, where: four.highHalf .< four.lowHalf)
    return min(two[0], two[1])
  }

  @inline(__always)
  private func min8(_ a: SIMD8<Int32>, _ b: SIMD8<Int32>) -> SIMD8<Int32> {
    a.replacing(with: b, where: b .< a)
  }

  @inline(__always)
  private func lowest(_ v: SIMD8<Int32>) -> Int32 {
    let four = v.lowHalf.replacing(with: v.highHalf, where: v.highHalf .< v.lowHalf)
    let two = four.lowHalf.replacing(with: four.highHalf, where: four.highHalf .< four.lowHalf)
    return min(two[0], two[1])
  }
}

extension Distances {
  /// Adds `weight · x` to `sums` for a dense row, and returns `‖x − c‖²` for
  /// its centre `c`, summed from the differences (no cancellation for rows
  /// far from the origin). The sums are Float: a window of a few hundred
  /// rows that the caller then adds to its Double sums.
  public static func accumulate(
    dense x: UnsafePointer<Float>, centre c: UnsafePointer<Float>, columns: Int, weight: Float,
    into sums: UnsafeMutablePointer<Float>
  ) -> Float {
    var squares = SIMD8<Float>()
    let w = SIMD8<Float>(repeating: weight)
    // Preconditions: x and c hold `columns` floats, sums `columns` floats; none overlap.
    var j = 0
    while j &+ 8 <= columns {
      // s ← s + w x;  Σ (x − c)²
      let value = load8(x, j)
      let difference = value - load8(c, j)
      squares.addProduct(difference, difference)
      store8(load8(sums, j).addingProduct(w, value), sums, j)
      j &+= 8
    }
    var total = horizontalSum(squares)
    while j < columns {
      let difference = x[j] - c[j]
      total.addProduct(difference, difference)
      sums[j] += weight * x[j]
      j &+= 1
    }
    return total
  }

  /// Adds `weight · x` to `sums` for a sparse row, and returns `‖x − c‖²`
  /// for its centre `c` of squared norm `centreNorm`: the differences on
  /// the row's columns plus the centre's norm off them, in Double.
  public static func accumulate(
    sparse indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    centre c: UnsafePointer<Float>, centreNorm: Double, weight: Float, into sums: UnsafeMutablePointer<Double>
  ) -> Float {
    let w = Double(weight)
    var onRow = 0.0
    var off = centreNorm
    // Preconditions: every index is below the centre's length (checked rows).
    for k in 0..<indices.count {
      let j = Int(indices[k])
      let value = Double(values[k])
      let centre = Double(c[j])
      sums[j] += w * value
      onRow += (value - centre) * (value - centre)
      off -= centre * centre
    }
    return Float(onRow + max(off, 0))
  }
}

extension Distances {
  /// `‖x − c‖²` for a dense row, summed from the differences.
  public static func squaredDistance(
    dense x: UnsafePointer<Float>, centre c: UnsafePointer<Float>, columns: Int
  ) -> Float {
    var squares = SIMD8<Float>()
    // Preconditions: x and c hold `columns` floats.
    var j = 0
    while j &+ 8 <= columns {
      let difference = load8(x, j) - load8(c, j)
      squares.addProduct(difference, difference)
      j &+= 8
    }
    var total = horizontalSum(squares)
    while j < columns {
      let difference = x[j] - c[j]
      total.addProduct(difference, difference)
      j &+= 1
    }
    return total
  }

  /// `‖x − c‖²` for a sparse row and a centre of squared norm `centreNorm`:
  /// the differences on the row's columns plus the centre's norm off them.
  public static func squaredDistance(
    sparse indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    centre c: UnsafePointer<Float>, centreNorm: Double
  ) -> Float {
    var onRow = 0.0
    var off = centreNorm
    // Preconditions: every index is below the centre's length (checked rows).
    for k in 0..<indices.count {
      let value = Double(values[k])
      let centre = Double(c[Int(indices[k])])
      onRow += (value - centre) * (value - centre)
      off -= centre * centre
    }
    return Float(onRow + max(off, 0))
  }
}
