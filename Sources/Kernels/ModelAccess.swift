import CAtomics

/// How a kernel reads and writes model weights: the one thing that differs
/// between the plain kernels and the lock-free (`Shared`) ones. The sparse
/// loops are written once, generic over it, and inlined into each public
/// kernel, so each compiles to its own specialised loop.
protocol ModelAccess {
  /// Reads the weight at `address`.
  static func load(_ address: UnsafeMutablePointer<Float>) -> Float
  /// Writes `value` to the weight at `address`.
  static func store(_ value: Float, _ address: UnsafeMutablePointer<Float>)
}

/// Plain loads and stores: for a model only this thread touches.
enum PlainAccess: ModelAccess {
  @inline(__always)
  static func load(_ address: UnsafeMutablePointer<Float>) -> Float { address.pointee }

  @inline(__always)
  static func store(_ value: Float, _ address: UnsafeMutablePointer<Float>) { address.pointee = value }
}

/// Relaxed atomic loads and stores: for a model other threads write at the
/// same time (Hogwild!). Plain moves on x86-64, but defined behaviour.
enum RelaxedAccess: ModelAccess {
  @inline(__always)
  static func load(_ address: UnsafeMutablePointer<Float>) -> Float { catomics_load_relaxed(address) }

  @inline(__always)
  static func store(_ value: Float, _ address: UnsafeMutablePointer<Float>) {
    catomics_store_relaxed(address, value)
  }
}

/// `Σₖ valuesₖ · w[indicesₖ]`, the model read through `Access`.
@inline(__always)
func gatherDot<Access: ModelAccess>(
  _: Access.Type, indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
  model w: UnsafeMutableBufferPointer<Float>
) -> Float {
  precondition(indices.count == values.count, "\(indices.count) indices for \(values.count) values")
  guard let ks = indices.baseAddress, let vs = values.baseAddress, let ws = w.baseAddress else { return 0 }
  let nnz = indices.count
  var s0: Float = 0
  var s1: Float = 0
  var s2: Float = 0
  var s3: Float = 0
  // Preconditions: ks and vs hold nnz entries; every index is in 0..<w.count.
  assert(indices.allSatisfy { $0 >= 0 && Int($0) < w.count }, "an index lies outside the model")
  var k = 0
  while k &+ 4 <= nnz {
    // sⱼ ← sⱼ + v[k+j] · w[idx[k+j]]
    s0.addProduct(vs[k], Access.load(ws + Int(ks[k])))
    s1.addProduct(vs[k &+ 1], Access.load(ws + Int(ks[k &+ 1])))
    s2.addProduct(vs[k &+ 2], Access.load(ws + Int(ks[k &+ 2])))
    s3.addProduct(vs[k &+ 3], Access.load(ws + Int(ks[k &+ 3])))
    k &+= 4
  }
  while k < nnz {
    s0.addProduct(vs[k], Access.load(ws + Int(ks[k])))
    k &+= 1
  }
  return (s0 + s1) + (s2 + s3)
}

/// `w[indicesₖ] ← w[indicesₖ] + a · valuesₖ`, the model read and written
/// through `Access`; repeated indices are applied one after the other.
@inline(__always)
func scatterAxpy<Access: ModelAccess>(
  _: Access.Type, _ a: Float, indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
  model w: UnsafeMutableBufferPointer<Float>
) {
  precondition(indices.count == values.count, "\(indices.count) indices for \(values.count) values")
  guard let ks = indices.baseAddress, let vs = values.baseAddress, let ws = w.baseAddress else { return }
  let nnz = indices.count
  // Preconditions: ks and vs hold nnz entries; every index is in 0..<w.count;
  // w does not overlap the row.
  assert(indices.allSatisfy { $0 >= 0 && Int($0) < w.count }, "an index lies outside the model")
  var k = 0
  while k < nnz {
    // w[idx[k]] ← w[idx[k]] + a · v[k]
    let slot = ws + Int(ks[k])
    Access.store(Access.load(slot).addingProduct(a, vs[k]), slot)
    k &+= 1
  }
}
