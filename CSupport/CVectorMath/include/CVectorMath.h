// Lane-wise inverse square roots and logarithms, lane-wise maxima and an
// 8 × 8 transpose: what Swift does not vectorise by itself.
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

/// `ln x` in each lane, for normal positive `x` (at least 2^-126): the
/// mantissa f in [√½, √2) and exponent e of x = f·2^e, then
/// ln x = e ln 2 + ln(1 + r), r = f − 1, with ln(1 + r) ≈ r − r²/2 + r³ P(r)
/// (Cephes' minimax P, degree 8) and ln 2 split in two. Absolute error about
/// 1e-7 near 1, relative about 2e-7 elsewhere. In C because Swift's SIMD
/// compares (`.<`) compile to a scalar loop a lane in this toolchain.
static inline __attribute__((always_inline)) cvectormath_float8
cvectormath_log8(cvectormath_float8 x) {
  typedef unsigned int uint8v __attribute__((ext_vector_type(8)));
  typedef int int8v __attribute__((ext_vector_type(8)));
  uint8v bits = (uint8v)x;
  // x = f · 2^e with f in [½, 1): f has the exponent field of ½.
  cvectormath_float8 e = __builtin_convertvector((int8v)(bits >> 23) - 126, cvectormath_float8);
  cvectormath_float8 f = (cvectormath_float8)((bits & 0x007FFFFFu) | 0x3F000000u);
  // f below √½ is doubled (one less in the exponent), so that f is in [√½, √2).
  int8v low = f < 0.70710678f;
  e = low ? e - 1.0f : e;
  f = low ? f + f : f;
  cvectormath_float8 r = f - 1.0f;
  cvectormath_float8 p = 7.0376836292e-2f;
  p = p * r - 1.1514610310e-1f;
  p = p * r + 1.1676998740e-1f;
  p = p * r - 1.2420140846e-1f;
  p = p * r + 1.4249322787e-1f;
  p = p * r - 1.6668057665e-1f;
  p = p * r + 2.0000714765e-1f;
  p = p * r - 2.4999993993e-1f;
  p = p * r + 3.3333331174e-1f;
  cvectormath_float8 r2 = r * r;
  cvectormath_float8 y = p * r * r2 + e * -2.12194440e-4f - 0.5f * r2;
  return r + y + e * 0.693359375f;
}

/// The larger of `a` and `b` in each lane (`vmaxps`).
static inline __attribute__((always_inline)) cvectormath_float8
cvectormath_max8(cvectormath_float8 a, cvectormath_float8 b) {
  return __builtin_elementwise_max(a, b);
}

/// `a` in the lanes where `x ≥ 0`, `b` in the others (a compare and a blend).
static inline __attribute__((always_inline)) cvectormath_float8
cvectormath_select_nonnegative8(cvectormath_float8 x, cvectormath_float8 a, cvectormath_float8 b) {
  return x >= 0.0f ? a : b;
}

/// Asks for the cache line holding `address` ahead of its use (`prefetcht0`).
static inline __attribute__((always_inline)) void cvectormath_prefetch(const void *address) {
  __builtin_prefetch(address, 0, 3);
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
