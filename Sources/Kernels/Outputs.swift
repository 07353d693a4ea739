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
  public static func addMargins(
    dense x: UnsafeBufferPointer<Float>, model w: UnsafeBufferPointer<Float>, outputs: Int,
    into m: UnsafeMutablePointer<Float>
  ) {
    precondition(w.count == x.count * outputs, "a row of \(x.count) for a model of \(w.count) / \(outputs)")
    guard let xs = x.baseAddress, let ws = w.baseAddress else { return }
    // Preconditions: xs holds D floats, ws D·K, m K; m overlaps neither.
    for j in 0..<x.count {
      // m ← m + xⱼ w[j·K ..< j·K + K]
      Dense.axpy(xs[j], ws + j &* outputs, m, count: outputs)
    }
  }

  /// `w[j·K + k] ← w[j·K + k] + xⱼ cₖ` for a dense row: the outer product of
  /// the row and the K coefficients, added to the model.
  public static func addOuter(
    dense x: UnsafeBufferPointer<Float>, coefficients c: UnsafePointer<Float>, outputs: Int,
    model w: UnsafeMutableBufferPointer<Float>
  ) {
    precondition(w.count == x.count * outputs, "a row of \(x.count) for a model of \(w.count) / \(outputs)")
    guard let xs = x.baseAddress, let ws = w.baseAddress else { return }
    // Preconditions: xs holds D floats, ws D·K, c K; ws overlaps neither.
    for j in 0..<x.count {
      // w[j·K ..< j·K + K] ← w[j·K ..< j·K + K] + xⱼ c
      Dense.axpy(xs[j], c, ws + j &* outputs, count: outputs)
    }
  }

  /// `mₖ ← mₖ + Σ values · w[index·K + k]` for a sparse row.
  public static func addMargins(
    indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    model w: UnsafeBufferPointer<Float>, outputs: Int, into m: UnsafeMutablePointer<Float>
  ) {
    gatherMargins(
      PlainAccess.self, indices: indices, values: values, model: UnsafeMutableBufferPointer(mutating: w),
      outputs: outputs, into: m)
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
  /// sparse row; repeated indices are applied one after the other.
  public static func addOuter(
    indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    coefficients c: UnsafePointer<Float>,
    outputs: Int, model w: UnsafeMutableBufferPointer<Float>
  ) {
    scatterOuter(
      PlainAccess.self, indices: indices, values: values, coefficients: c, outputs: outputs, model: w)
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
  /// gradient `dₖ xⱼ`. `sums` is as long as the model.
  public static func adaptive(
    dense x: UnsafeBufferPointer<Float>, derivatives d: UnsafePointer<Float>, outputs: Int,
    model w: UnsafeMutableBufferPointer<Float>, sums: UnsafeMutableBufferPointer<Float>, step: AdaptiveStep
  ) {
    precondition(
      w.count == x.count * outputs && sums.count == w.count,
      "a row of \(x.count), a model of \(w.count) / \(outputs) and \(sums.count) sums")
    guard let xs = x.baseAddress, let ws = w.baseAddress, let gs = sums.baseAddress else { return }
    // Preconditions: xs holds D floats, ws and gs D·K, d K; none overlap.
    for j in 0..<x.count {
      let base = j &* outputs
      for k in 0..<outputs {
        adaptiveUpdate(PlainAccess.self, ws + (base &+ k), gs + (base &+ k), gradient: d[k] * xs[j], step)
      }
    }
  }

  /// One AdaGrad step on a sparse row whose loss has derivatives `d` with
  /// respect to the K margins; repeated indices are applied one after the other.
  public static func adaptive(
    indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    derivatives d: UnsafePointer<Float>,
    outputs: Int, model w: UnsafeMutableBufferPointer<Float>, sums: UnsafeMutableBufferPointer<Float>,
    step: AdaptiveStep
  ) {
    scatterOuterAdaptive(
      PlainAccess.self, indices: indices, values: values, derivatives: d, outputs: outputs, model: w,
      sums: sums,
      step)
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
