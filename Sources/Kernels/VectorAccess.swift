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

/// `Σ lanes of v` as a tree: two vector adds and one scalar add, instead of
/// the seven dependent scalar adds of `v.sum()`.
@inline(__always)
func horizontalSum(_ v: SIMD8<Float>) -> Float {
  let four = v.lowHalf + v.highHalf
  let two = four.lowHalf + four.highHalf
  return two[0] + two[1]
}

/// Lane-wise `min(a, b)` as a compare and a blend (the standard library's
/// `pointwiseMin` is a call per vector, lane by lane).
@inline(__always)
func lanewiseMin(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: b .< a) }

/// Lane-wise `max(a, b)` as a compare and a blend.
@inline(__always)
func lanewiseMax(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> { a.replacing(with: b, where: b .> a) }
