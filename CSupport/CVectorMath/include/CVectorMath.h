// Lane-wise inverse square roots and an 8 × 8 transpose: what Swift does not
// vectorise by itself.
//
// `SIMD8<Float>.squareRoot()` compiles to eight scalar `vsqrtss`, each with a
// branch to `sqrtf` for errno: the AdaGrad kernels spent most of their time
// there. Here the inverse square root is the processor's estimate
// (`vrsqrtps`, 12 bits) and one Newton step, what AdaGrad's step size needs:
// a dense AdaGrad epoch ran 22% faster with it than with a correctly rounded
// `vsqrtps` (clang's element-wise builtin) and a division. Swift sees the
// eight-lane vector type as `SIMD8<Float>`.
#ifndef SOUNDER_CVECTORMATH_H
#define SOUNDER_CVECTORMATH_H

typedef float cvectormath_float8 __attribute__((ext_vector_type(8)));

/// `1/√x` in each lane to about 22 bits: the processor's 12-bit estimate
/// and one Newton step, `r ← r (3 − x r²) / 2` (without AVX: `1/√x`).
static inline __attribute__((always_inline)) cvectormath_float8
cvectormath_rsqrt8(cvectormath_float8 x) {
#if defined(__AVX__)
  typedef float v8sf __attribute__((__vector_size__(32)));
  cvectormath_float8 r = (cvectormath_float8)__builtin_ia32_rsqrtps256((v8sf)x);
  return r * (1.5f - 0.5f * x * r * r);
#else
  return 1.0f / __builtin_elementwise_sqrt(x);
#endif
}

/// `1/√x` to about 22 bits, as ``cvectormath_rsqrt8`` (the same estimate
/// in one lane, so dense and sparse steps agree).
static inline __attribute__((always_inline)) float cvectormath_rsqrt(float x) {
#if defined(__AVX__)
  typedef float v4sf __attribute__((__vector_size__(16)));
  float r = __builtin_ia32_rsqrtss((v4sf){x, 0, 0, 0})[0];
  return r * (1.5f - 0.5f * x * r * r);
#else
  return 1.0f / __builtin_elementwise_sqrt(x);
#endif
}

/// Transposes the 8 × 8 floats at `m` (row-major, any alignment) in place:
/// `m[8r + c]` becomes `m[8c + r]`. Swift has no lane shuffles (its
/// `evenHalf` compiles to scalar inserts); here they are clang's
/// `__builtin_shufflevector`, the usual unpack / shuffle / 128-bit permute
/// ladder on AVX (24 shuffles). Inlined into a caller whose rows are vectors
/// in registers, the loads and stores disappear.
static inline __attribute__((always_inline)) void cvectormath_transpose8(float *m) {
  typedef float row8 __attribute__((ext_vector_type(8), aligned(4)));
  row8 *v = (row8 *)m;
  cvectormath_float8 r0 = v[0], r1 = v[1], r2 = v[2], r3 = v[3], r4 = v[4], r5 = v[5], r6 = v[6],
                     r7 = v[7];
  // Interleave pairs of rows, then pairs of pairs, then the 128-bit halves.
  cvectormath_float8 t0 = __builtin_shufflevector(r0, r1, 0, 8, 1, 9, 4, 12, 5, 13);
  cvectormath_float8 t1 = __builtin_shufflevector(r0, r1, 2, 10, 3, 11, 6, 14, 7, 15);
  cvectormath_float8 t2 = __builtin_shufflevector(r2, r3, 0, 8, 1, 9, 4, 12, 5, 13);
  cvectormath_float8 t3 = __builtin_shufflevector(r2, r3, 2, 10, 3, 11, 6, 14, 7, 15);
  cvectormath_float8 t4 = __builtin_shufflevector(r4, r5, 0, 8, 1, 9, 4, 12, 5, 13);
  cvectormath_float8 t5 = __builtin_shufflevector(r4, r5, 2, 10, 3, 11, 6, 14, 7, 15);
  cvectormath_float8 t6 = __builtin_shufflevector(r6, r7, 0, 8, 1, 9, 4, 12, 5, 13);
  cvectormath_float8 t7 = __builtin_shufflevector(r6, r7, 2, 10, 3, 11, 6, 14, 7, 15);
  cvectormath_float8 u0 = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);
  cvectormath_float8 u1 = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);
  cvectormath_float8 u2 = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);
  cvectormath_float8 u3 = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);
  cvectormath_float8 u4 = __builtin_shufflevector(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);
  cvectormath_float8 u5 = __builtin_shufflevector(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);
  cvectormath_float8 u6 = __builtin_shufflevector(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);
  cvectormath_float8 u7 = __builtin_shufflevector(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
  v[0] = __builtin_shufflevector(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11);
  v[1] = __builtin_shufflevector(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11);
  v[2] = __builtin_shufflevector(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11);
  v[3] = __builtin_shufflevector(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11);
  v[4] = __builtin_shufflevector(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15);
  v[5] = __builtin_shufflevector(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15);
  v[6] = __builtin_shufflevector(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15);
  v[7] = __builtin_shufflevector(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15);
}

#endif
