// Lane-wise inverse square roots, which Swift does not vectorise by itself.
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

#endif
