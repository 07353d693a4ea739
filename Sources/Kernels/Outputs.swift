/// Kernels for a model of K outputs (multiclass), stored feature-major:
/// feature `j`'s K weights are `w[j·K ..< j·K + K]`, side by side, so a
/// sparse non-zero's K weights share a cache line or two and a dense row's
/// update walks the model once, front to back.
///
/// Every kernel takes the row as the single-output kernels do (a dense row
/// of `columns` values, or a sparse row of indices below `columns`) and a
/// model of `columns × outputs` floats. For one output the plain ``Dense``
/// and ``Sparse`` kernels are the same computation and faster; the engine
/// uses those then.
///
/// The dense kernels use plain vector loads and stores. On a model other
/// threads write at the same time that is the documented race of
/// ``Shared/racyStep(_:model:coefficient:)``. The sparse kernels come in a
/// plain and a `shared` form (relaxed atomics, as ``Shared``).
public enum Outputs {
  /// `mₖ ← mₖ + Σⱼ xⱼ w[j·K + k]` for a dense row: the margins without the
  /// intercepts, added to what `m` holds.
  ///
  /// Outputs go eight at a time, each group summed in registers over all
  /// features (four accumulators, features j mod 4, so four multiply-adds
  /// are in flight). A group of fewer
  /// than eight loads eight lanes anyway, the rest from the next feature's
  /// weights, and drops them; the last features, where such a load would
  /// leave the model, go lane by lane.
  public static func addMargins(
    dense x: UnsafeBufferPointer<Float>, model w: UnsafeBufferPointer<Float>, outputs: Int,
    into m: UnsafeMutablePointer<Float>
  ) {
    precondition(w.count == x.count * outputs, "a row of \(x.count) for a model of \(w.count) / \(outputs)")
    guard let xs = x.baseAddress, let ws = w.baseAddress else { return }
    let features = x.count
    // Preconditions: xs holds D floats, ws D·K, m K; m overlaps neither.
    if outputs > 8 && outputs <= 16 {
      addTwoGroupMargins(xs, ws, features: features, outputs: outputs, count: w.count, into: m)
      return
    }
    var group = 0
    while group < outputs {
      let width = min(8, outputs - group)
      let vectorRows = rowsWithinModel(group: group, features: features, outputs: outputs, count: w.count)
      var a0 = SIMD8<Float>()
      var a1 = SIMD8<Float>()
      var a2 = SIMD8<Float>()
      var a3 = SIMD8<Float>()
      var j = 0
      while j &+ 4 <= vectorRows {
        // m[group ..< group + 8] ← … + Σ_{i<4} xⱼ₊ᵢ w[(j+i)·K + group ..], four chains in flight
        a0.addProduct(SIMD8(repeating: xs[j]), load8(ws, j &* outputs &+ group))
        a1.addProduct(SIMD8(repeating: xs[j &+ 1]), load8(ws, (j &+ 1) &* outputs &+ group))
        a2.addProduct(SIMD8(repeating: xs[j &+ 2]), load8(ws, (j &+ 2) &* outputs &+ group))
        a3.addProduct(SIMD8(repeating: xs[j &+ 3]), load8(ws, (j &+ 3) &* outputs &+ group))
        j &+= 4
      }
      while j < vectorRows {
        a0.addProduct(SIMD8(repeating: xs[j]), load8(ws, j &* outputs &+ group))
        j &+= 1
      }
      // Lanes by index through memory: indexing a SIMD value with a variable lane
      // compiles to a broadcast, a compare and a blend per access.
      var sum = (a0 + a1) + (a2 + a3)
      withUnsafeBytes(of: &sum) { lanes in
        for lane in 0..<width { m[group &+ lane] += lanes.load(fromByteOffset: lane &* 4, as: Float.self) }
      }
      while j < features {
        for lane in 0..<width { m[group &+ lane].addProduct(xs[j], ws[j &* outputs &+ group &+ lane]) }
        j &+= 1
      }
      group &+= 8
    }
  }

  /// `w[j·K + k] ← w[j·K + k] + xⱼ cₖ` for a dense row: the outer product of
  /// the row and the K coefficients, added to the model (see
  /// ``outer(_:_:outputs:model:spill:)``).
  public static func addOuter(
    dense x: UnsafeBufferPointer<Float>, coefficients c: UnsafePointer<Float>, outputs: Int,
    model w: UnsafeMutableBufferPointer<Float>
  ) {
    precondition(w.count == x.count * outputs, "a row of \(x.count) for a model of \(w.count) / \(outputs)")
    outer(DenseEntries(x), c, outputs: outputs, model: w, spill: true)
  }

  /// ``addOuter(dense:coefficients:outputs:model:)`` on a model other threads
  /// write at the same time: a group of fewer than eight outputs goes lane by
  /// lane, so a store never writes back another feature's weights (which
  /// would undo a concurrent update to them). Whole groups are plain vector
  /// stores, the documented race of `Shared.racyStep`.
  public static func sharedAddOuter(
    dense x: UnsafeBufferPointer<Float>, coefficients c: UnsafePointer<Float>, outputs: Int,
    model w: UnsafeMutableBufferPointer<Float>
  ) {
    precondition(w.count == x.count * outputs, "a row of \(x.count) for a model of \(w.count) / \(outputs)")
    outer(DenseEntries(x), c, outputs: outputs, model: w, spill: false)
  }

  /// ``addMargins(dense:model:outputs:into:)`` for 9 to 16 outputs: both
  /// groups of eight in one pass over the features, so each feature's
  /// value is broadcast once (2 groups × even and odd features: four
  /// accumulators).
  @inline(__always)
  static func addTwoGroupMargins(
    _ xs: UnsafePointer<Float>, _ ws: UnsafePointer<Float>, features: Int, outputs: Int, count: Int,
    into m: UnsafeMutablePointer<Float>
  ) {
    let vectorRows = rowsWithinModel(group: 8, features: features, outputs: outputs, count: count)
    var low0 = SIMD8<Float>()
    var low1 = SIMD8<Float>()
    var high0 = SIMD8<Float>()
    var high1 = SIMD8<Float>()
    var j = 0
    while j &+ 2 <= vectorRows {
      // m[0 ..< 16] ← … + xⱼ w[j·K ..< j·K + 16] + xⱼ₊₁ w[(j+1)·K ..< (j+1)·K + 16]
      let x0 = SIMD8<Float>(repeating: xs[j])
      let x1 = SIMD8<Float>(repeating: xs[j &+ 1])
      let row0 = j &* outputs
      let row1 = row0 &+ outputs
      low0.addProduct(x0, load8(ws, row0))
      high0.addProduct(x0, load8(ws, row0 &+ 8))
      low1.addProduct(x1, load8(ws, row1))
      high1.addProduct(x1, load8(ws, row1 &+ 8))
      j &+= 2
    }
    var low = low0 + low1
    var high = high0 + high1
    withUnsafeBytes(of: &low) { lanes in
      for lane in 0..<8 { m[lane] += lanes.load(fromByteOffset: lane &* 4, as: Float.self) }
    }
    withUnsafeBytes(of: &high) { lanes in
      for lane in 0..<(outputs &- 8) { m[8 &+ lane] += lanes.load(fromByteOffset: lane &* 4, as: Float.self) }
    }
    while j < features {
      for k in 0..<outputs { m[k].addProduct(xs[j], ws[j &* outputs &+ k]) }
      j &+= 1
    }
  }

  /// How many features `j` (from 0) have their eight lanes
  /// `j·K + group ..< j·K + group + 8` inside a model of `count` floats.
  @inline(__always)
  static func rowsWithinModel(group: Int, features: Int, outputs: Int, count: Int) -> Int {
    let room = count - group - 8
    return room < 0 ? 0 : min(features, room / outputs + 1)
  }

  /// `mₖ ← mₖ + Σ values · w[index·K + k]` for a sparse row.
  ///
  /// Outputs go eight at a time, summed in two register accumulators over
  /// the non-zeros; as in the dense kernel, a group of fewer than eight loads
  /// eight lanes and drops the rest, except where that would leave the model.
  public static func addMargins(
    indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    model w: UnsafeBufferPointer<Float>, outputs: Int, into m: UnsafeMutablePointer<Float>
  ) {
    precondition(indices.count == values.count, "\(indices.count) indices for \(values.count) values")
    guard let ks = indices.baseAddress, let vs = values.baseAddress, let ws = w.baseAddress else { return }
    let nnz = indices.count
    let count = w.count
    // Preconditions: ks and vs hold nnz entries; every index·K + K ≤ w.count; m holds K floats.
    assert(
      indices.allSatisfy { $0 >= 0 && (Int($0) + 1) * outputs <= count }, "an index lies outside the model")
    var group = 0
    while group < outputs {
      let width = min(8, outputs - group)
      var a0 = SIMD8<Float>()
      var a1 = SIMD8<Float>()
      var n = 0
      while n < nnz {
        let first = Int(ks[n]) &* outputs &+ group
        if n &+ 1 < nnz {
          let second = Int(ks[n &+ 1]) &* outputs &+ group
          if max(first, second) &+ 8 <= count {
            // m[group ..< group + 8] ← … + vₙ w[idxₙ·K + group ..] + vₙ₊₁ w[idxₙ₊₁·K + group ..]
            a0.addProduct(SIMD8(repeating: vs[n]), load8(ws, first))
            a1.addProduct(SIMD8(repeating: vs[n &+ 1]), load8(ws, second))
            n &+= 2
            continue
          }
        }
        if first &+ 8 <= count {
          a0.addProduct(SIMD8(repeating: vs[n]), load8(ws, first))
        } else {
          for lane in 0..<width { m[group &+ lane].addProduct(vs[n], ws[first &+ lane]) }
        }
        n &+= 1
      }
      var sum = a0 + a1
      withUnsafeBytes(of: &sum) { lanes in
        for lane in 0..<width { m[group &+ lane] += lanes.load(fromByteOffset: lane &* 4, as: Float.self) }
      }
      group &+= 8
    }
  }

  /// ``addMargins(indices:values:model:outputs:into:)`` with every model read
  /// a relaxed atomic load.
  public static func sharedAddMargins(
    indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    model w: UnsafeMutableBufferPointer<Float>, outputs: Int, into m: UnsafeMutablePointer<Float>
  ) {
    gatherMargins(RelaxedAccess.self, indices: indices, values: values, model: w, outputs: outputs, into: m)
  }

  /// `w[index·K + k] ← w[index·K + k] + value · cₖ` for each non-zero of a
  /// sparse row; repeated indices are applied one after the other (see
  /// ``outer(_:_:outputs:model:spill:)``).
  public static func addOuter(
    indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    coefficients c: UnsafePointer<Float>,
    outputs: Int, model w: UnsafeMutableBufferPointer<Float>
  ) {
    outer(
      SparseEntries(indices: indices, values: values, outputs: outputs, count: w.count), c, outputs: outputs,
      model: w, spill: true)
  }

  /// The outer product of a row and K coefficients, added to the model:
  /// `w[i·K + k] ← w[i·K + k] + v cₖ` for each entry `(i, v)` of the row.
  ///
  /// Outputs go eight at a time. With `spill`, a group of fewer than eight
  /// writes eight lanes anyway, the others with a coefficient of 0: they
  /// store the value they loaded, the next feature's weights unchanged.
  /// Without it, or where eight lanes would leave the model, the group goes
  /// lane by lane.
  @inline(__always)
  static func outer<Row: RowEntries>(
    _ row: Row, _ c: UnsafePointer<Float>, outputs: Int, model w: UnsafeMutableBufferPointer<Float>,
    spill: Bool
  ) {
    guard let ws = w.baseAddress else { return }
    let count = w.count
    // Preconditions: every entry's index·K + K ≤ w.count (RowEntries checks in debug
    // builds); w overlaps neither the row nor c.
    var group = 0
    while group < outputs {
      let width = min(8, outputs - group)
      let coefficients = lanes(c + group, width: width)
      let vectors = width == 8 || spill
      let lead = vectors ? row.leadingVectorEntries(group: group, outputs: outputs, count: count) : 0
      for n in 0..<lead {
        // w[i·K + group ..< + 8] ← w[i·K + group ..] + v c[group ..]
        let offset = row.index(n) &* outputs &+ group
        store8(load8(ws, offset).addingProduct(SIMD8(repeating: row.value(n)), coefficients), ws, offset)
      }
      for n in lead..<row.count {
        let offset = row.index(n) &* outputs &+ group
        let v = row.value(n)
        if vectors && offset &+ 8 <= count {
          store8(load8(ws, offset).addingProduct(SIMD8(repeating: v), coefficients), ws, offset)
        } else {
          outerLanes(ws + offset, v, c + group, width: width)
        }
      }
      group &+= 8
    }
  }

  /// ``outer(_:_:outputs:model:spill:)``'s lane-by-lane path, out of line
  /// so that the vector loop keeps its values in registers:
  /// `w[lane] ← w[lane] + v c[lane]` for `lane < width`.
  @inline(never)
  static func outerLanes(_ w: UnsafeMutablePointer<Float>, _ v: Float, _ c: UnsafePointer<Float>, width: Int)
  {
    for lane in 0..<width { w[lane].addProduct(v, c[lane]) }
  }

  /// ``adaptiveOuter(_:_:outputs:model:sums:step:spill:)``'s lane-by-lane
  /// path, out of line: each of `width` weights steps along `d[lane] v`.
  @inline(never)
  static func adaptiveEachLane(
    _ w: UnsafeMutablePointer<Float>, _ sums: UnsafeMutablePointer<Float>, _ v: Float,
    _ d: UnsafePointer<Float>,
    width: Int, _ step: AdaptiveStep
  ) {
    for lane in 0..<width {
      adaptiveUpdate(PlainAccess.self, w + lane, sums + lane, gradient: d[lane] * v, step)
    }
  }

  /// `width` (at most 8) floats from `source` in the low lanes, zeros above.
  @inline(__always)
  static func lanes(_ source: UnsafePointer<Float>, width: Int) -> SIMD8<Float> {
    var vector = SIMD8<Float>()
    withUnsafeMutableBytes(of: &vector) { bytes in
      for lane in 0..<width { bytes.storeBytes(of: source[lane], toByteOffset: lane &* 4, as: Float.self) }
    }
    return vector
  }

  /// ``addOuter(indices:values:coefficients:outputs:model:)`` through
  /// relaxed atomic loads and stores.
  public static func sharedAddOuter(
    indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    coefficients c: UnsafePointer<Float>,
    outputs: Int, model w: UnsafeMutableBufferPointer<Float>
  ) {
    scatterOuter(
      RelaxedAccess.self, indices: indices, values: values, coefficients: c, outputs: outputs, model: w)
  }

  /// One AdaGrad step (see ``AdaptiveStep``) on a dense row whose loss has
  /// derivatives `d` with respect to the K margins: weight `(j, k)` has
  /// gradient `dₖ xⱼ`. `sums` is as long as the model (see
  /// ``adaptiveOuter(_:_:outputs:model:sums:step:spill:)``).
  public static func adaptive(
    dense x: UnsafeBufferPointer<Float>, derivatives d: UnsafePointer<Float>, outputs: Int,
    model w: UnsafeMutableBufferPointer<Float>, sums: UnsafeMutableBufferPointer<Float>, step: AdaptiveStep
  ) {
    precondition(
      w.count == x.count * outputs && sums.count == w.count,
      "a row of \(x.count), a model of \(w.count) / \(outputs) and \(sums.count) sums")
    adaptiveOuter(DenseEntries(x), d, outputs: outputs, model: w, sums: sums, step: step, spill: true)
  }

  /// ``adaptive(dense:derivatives:outputs:model:sums:step:)`` on a model other
  /// threads write at the same time: partial groups go lane by lane (as
  /// ``sharedAddOuter(dense:coefficients:outputs:model:)``).
  public static func sharedAdaptive(
    dense x: UnsafeBufferPointer<Float>, derivatives d: UnsafePointer<Float>, outputs: Int,
    model w: UnsafeMutableBufferPointer<Float>, sums: UnsafeMutableBufferPointer<Float>, step: AdaptiveStep
  ) {
    precondition(
      w.count == x.count * outputs && sums.count == w.count,
      "a row of \(x.count), a model of \(w.count) / \(outputs) and \(sums.count) sums")
    adaptiveOuter(DenseEntries(x), d, outputs: outputs, model: w, sums: sums, step: step, spill: false)
  }

  /// One AdaGrad step on a sparse row whose loss has derivatives `d` with
  /// respect to the K margins; repeated indices are applied one after the other.
  public static func adaptive(
    indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    derivatives d: UnsafePointer<Float>,
    outputs: Int, model w: UnsafeMutableBufferPointer<Float>, sums: UnsafeMutableBufferPointer<Float>,
    step: AdaptiveStep
  ) {
    precondition(sums.count == w.count, "\(sums.count) sums for a model of \(w.count)")
    adaptiveOuter(
      SparseEntries(indices: indices, values: values, outputs: outputs, count: w.count), d, outputs: outputs,
      model: w, sums: sums, step: step, spill: true)
  }

  /// AdaGrad on each weight `(i, k)` of the row's entries `(i, v)` with
  /// gradient `dₖ v` (``adaptiveLanes``), eight outputs at a time. With
  /// `spill`, a group of fewer than eight computes eight lanes and stores the
  /// others' weights and sums as they were loaded; without it, or where
  /// eight lanes would leave the model, the group goes lane by lane.
  @inline(__always)
  static func adaptiveOuter<Row: RowEntries>(
    _ row: Row, _ d: UnsafePointer<Float>, outputs: Int, model w: UnsafeMutableBufferPointer<Float>,
    sums: UnsafeMutableBufferPointer<Float>, step: AdaptiveStep, spill: Bool
  ) {
    guard let ws = w.baseAddress, let gs = sums.baseAddress else { return }
    let count = w.count
    // Preconditions: as outer; sums as long as the model, overlapping nothing.
    var group = 0
    while group < outputs {
      let width = min(8, outputs - group)
      let derivatives = lanes(d + group, width: width)
      let idle = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) .>= SIMD8(repeating: Int32(width))
      let vectors = width == 8 || spill
      // gₖ = dₖ v for the group's lanes; lanes past the group keep their weight and sum.
      @inline(__always) func vectorStep(_ offset: Int, _ v: Float) {
        let weights = load8(ws, offset)
        let squares = load8(gs, offset)
        let (updated, summed) = adaptiveLanes(
          weights, sums: squares, gradient: derivatives * SIMD8(repeating: v), step)
        store8(summed.replacing(with: squares, where: idle), gs, offset)
        store8(updated.replacing(with: weights, where: idle), ws, offset)
      }
      let lead = vectors ? row.leadingVectorEntries(group: group, outputs: outputs, count: count) : 0
      for n in 0..<lead { vectorStep(row.index(n) &* outputs &+ group, row.value(n)) }
      for n in lead..<row.count {
        let offset = row.index(n) &* outputs &+ group
        if vectors && offset &+ 8 <= count {
          vectorStep(offset, row.value(n))
        } else {
          adaptiveEachLane(ws + offset, gs + offset, row.value(n), d + group, width: width, step)
        }
      }
      group &+= 8
    }
  }

  /// ``adaptive(indices:values:derivatives:outputs:model:sums:step:)``
  /// through relaxed atomic loads and stores.
  public static func sharedAdaptive(
    indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    derivatives d: UnsafePointer<Float>,
    outputs: Int, model w: UnsafeMutableBufferPointer<Float>, sums: UnsafeMutableBufferPointer<Float>,
    step: AdaptiveStep
  ) {
    scatterOuterAdaptive(
      RelaxedAccess.self, indices: indices, values: values, derivatives: d, outputs: outputs, model: w,
      sums: sums, step)
  }
}

/// The sparse margins of a K-output model, read through `Access`.
@inline(__always)
func gatherMargins<Access: ModelAccess>(
  _: Access.Type, indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
  model w: UnsafeMutableBufferPointer<Float>, outputs: Int, into m: UnsafeMutablePointer<Float>
) {
  precondition(indices.count == values.count, "\(indices.count) indices for \(values.count) values")
  guard let ks = indices.baseAddress, let vs = values.baseAddress, let ws = w.baseAddress else { return }
  // Preconditions: ks and vs hold nnz entries; every index·K + K ≤ w.count; m holds K floats.
  assert(
    indices.allSatisfy { $0 >= 0 && (Int($0) + 1) * outputs <= w.count }, "an index lies outside the model")
  for n in 0..<indices.count {
    let row = ws + Int(ks[n]) &* outputs
    let v = vs[n]
    // mₖ ← mₖ + v · w[index·K + k]
    for k in 0..<outputs { m[k].addProduct(v, Access.load(row + k)) }
  }
}

/// The sparse outer-product update of a K-output model, through `Access`.
@inline(__always)
func scatterOuter<Access: ModelAccess>(
  _: Access.Type, indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
  coefficients c: UnsafePointer<Float>, outputs: Int, model w: UnsafeMutableBufferPointer<Float>
) {
  precondition(indices.count == values.count, "\(indices.count) indices for \(values.count) values")
  guard let ks = indices.baseAddress, let vs = values.baseAddress, let ws = w.baseAddress else { return }
  // Preconditions: as gatherMargins; w overlaps neither the row nor c.
  assert(
    indices.allSatisfy { $0 >= 0 && (Int($0) + 1) * outputs <= w.count }, "an index lies outside the model")
  for n in 0..<indices.count {
    let row = ws + Int(ks[n]) &* outputs
    let v = vs[n]
    // w[index·K + k] ← w[index·K + k] + v cₖ
    for k in 0..<outputs { Access.store(Access.load(row + k).addingProduct(v, c[k]), row + k) }
  }
}

/// The sparse AdaGrad step of a K-output model, through `Access`.
@inline(__always)
func scatterOuterAdaptive<Access: ModelAccess>(
  _: Access.Type, indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
  derivatives d: UnsafePointer<Float>, outputs: Int, model w: UnsafeMutableBufferPointer<Float>,
  sums: UnsafeMutableBufferPointer<Float>, _ step: AdaptiveStep
) {
  precondition(indices.count == values.count, "\(indices.count) indices for \(values.count) values")
  precondition(sums.count == w.count, "\(sums.count) sums for a model of \(w.count)")
  guard let ks = indices.baseAddress, let vs = values.baseAddress, let ws = w.baseAddress,
    let gs = sums.baseAddress
  else { return }
  // Preconditions: as gatherMargins; sums as long as the model.
  assert(
    indices.allSatisfy { $0 >= 0 && (Int($0) + 1) * outputs <= w.count }, "an index lies outside the model")
  for n in 0..<indices.count {
    let base = Int(ks[n]) &* outputs
    let v = vs[n]
    for k in 0..<outputs {
      adaptiveUpdate(Access.self, ws + (base &+ k), gs + (base &+ k), gradient: d[k] * v, step)
    }
  }
}

/// A row as entries `(index, value)`: a dense row's `(j, xⱼ)` or a sparse
/// row's non-zeros, so one kernel serves both. The kernels are generic over
/// it, so each kind compiles to its own loop (a dense row's index is the
/// loop counter, no load).
protocol RowEntries {
  /// The number of entries.
  var count: Int { get }
  /// Entry `n`'s index.
  func index(_ n: Int) -> Int
  /// Entry `n`'s value.
  func value(_ n: Int) -> Float
  /// How many leading entries are known to have their eight lanes from
  /// `group` inside a model of `count` floats (the rest are checked one by one).
  func leadingVectorEntries(group: Int, outputs: Int, count: Int) -> Int
}

/// A dense row: entry `j` is `(j, xⱼ)`.
struct DenseEntries: RowEntries {
  let values: UnsafePointer<Float>
  let count: Int

  @inline(__always)
  init(_ x: UnsafeBufferPointer<Float>) {
    values = x.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Float>.alignment)!
    count = x.count
  }

  @inline(__always)
  func index(_ n: Int) -> Int { n }

  /// Indices rise with the entry, so all up to the last feature that fits.
  @inline(__always)
  func leadingVectorEntries(group: Int, outputs: Int, count: Int) -> Int {
    Outputs.rowsWithinModel(group: group, features: self.count, outputs: outputs, count: count)
  }

  @inline(__always)
  func value(_ n: Int) -> Float { values[n] }
}

/// A sparse row: entry `n` is its `n`-th non-zero.
struct SparseEntries: RowEntries {
  let indices: UnsafePointer<Int32>
  let values: UnsafePointer<Float>
  let count: Int

  /// The row's non-zeros, for a model of `count` floats and `outputs` outputs.
  @inline(__always)
  init(indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>, outputs: Int, count: Int) {
    precondition(indices.count == values.count, "\(indices.count) indices for \(values.count) values")
    // Precondition: every index·K + K ≤ count (checked in debug builds).
    assert(
      indices.allSatisfy { $0 >= 0 && (Int($0) + 1) * outputs <= count }, "an index lies outside the model")
    self.indices = indices.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Int32>.alignment)!
    self.values = values.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Float>.alignment)!
    self.count = indices.count
  }

  @inline(__always)
  func index(_ n: Int) -> Int { Int(indices[n]) }

  /// None: a sparse row's entries are checked one by one.
  @inline(__always)
  func leadingVectorEntries(group: Int, outputs: Int, count: Int) -> Int { 0 }

  @inline(__always)
  func value(_ n: Int) -> Float { values[n] }
}
