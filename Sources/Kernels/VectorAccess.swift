/// Unaligned eight-lane loads and stores, the only way the kernels touch
/// memory as vectors. Each is a single `vmovups` on x86-64 with AVX.

/// The eight floats starting at `base[offset]`, at any alignment.
@inline(__always)
func load8(_ base: UnsafePointer<Float>, _ offset: Int) -> SIMD8<Float> {
  UnsafeRawPointer(base + offset).loadUnaligned(as: SIMD8<Float>.self)
}

/// Writes `value` to the eight floats starting at `base[offset]`, at any alignment.
@inline(__always)
func store8(_ value: SIMD8<Float>, _ base: UnsafeMutablePointer<Float>, _ offset: Int) {
  UnsafeMutableRawPointer(base + offset).storeBytes(of: value, as: SIMD8<Float>.self)
}
