/// Sparse-row kernels: a row in compressed sparse row (CSR) form, as parallel
/// buffers of `Int32` column indices and `Float` values, against a dense model.
///
/// The model accesses are gathers and scatters, which AVX2 cannot speed up
/// (it has no scatter, and its gather is no faster than scalar loads on
/// current cores), so the loops are scalar; the dot is unrolled by four with
/// four accumulators to keep four loads and multiply-adds in flight.
///
/// Every index must lie in `0..<model.count`. Debug builds check it; release
/// builds do not, since the check would cost as much as the kernel (the
/// place to validate indices is once, where rows are loaded).
public enum Sparse {
  /// The inner product of a sparse row with a dense model: `Σₖ valuesₖ · w[indicesₖ]`.
  public static func dot(
    indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    model w: UnsafeBufferPointer<Float>
  ) -> Float {
    gatherDot(
      PlainAccess.self, indices: indices, values: values, model: UnsafeMutableBufferPointer(mutating: w))
  }

  /// Scatters `a` times a sparse row into a dense model: `w[indicesₖ] ← w[indicesₖ] + a · valuesₖ`.
  /// Repeated indices are applied one after the other.
  public static func axpy(
    _ a: Float, indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>,
    into w: UnsafeMutableBufferPointer<Float>
  ) {
    scatterAxpy(PlainAccess.self, a, indices: indices, values: values, model: w)
  }
}
