/// Sparse-row kernels: a row in compressed sparse row (CSR) form, as parallel
/// buffers of `Int32` column indices and `Float` values, against a dense model.
///
/// The model accesses are gathers and scatters, which AVX2 cannot speed up
/// (it has no scatter, and its gather is no faster than scalar loads on
/// current cores), so the loops are scalar, unrolled by four with four
/// accumulators to keep four loads and multiply-adds in flight.
public enum Sparse {
  /// The inner product of a sparse row with a dense model: `Σₖ valuesₖ · w[indicesₖ]`.
  public static func dot(
    indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    model w: UnsafeBufferPointer<Float>
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
      s0.addProduct(vs[k], ws[Int(ks[k])])
      s1.addProduct(vs[k &+ 1], ws[Int(ks[k &+ 1])])
      s2.addProduct(vs[k &+ 2], ws[Int(ks[k &+ 2])])
      s3.addProduct(vs[k &+ 3], ws[Int(ks[k &+ 3])])
      k &+= 4
    }
    while k < nnz {
      s0.addProduct(vs[k], ws[Int(ks[k])])
      k &+= 1
    }
    return (s0 + s1) + (s2 + s3)
  }

  /// Scatters `a` times a sparse row into a dense model: `w[indicesₖ] ← w[indicesₖ] + a · valuesₖ`.
  /// Repeated indices are applied one after the other.
  public static func axpy(
    _ a: Float, indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    into w: UnsafeMutableBufferPointer<Float>
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
      ws[Int(ks[k])].addProduct(a, vs[k])
      k &+= 1
    }
  }
}
