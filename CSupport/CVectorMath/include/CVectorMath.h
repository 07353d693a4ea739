// Lane-wise square roots that Swift does not vectorise by itself.
//
// `SIMD8<Float>.squareRoot()` compiles to eight scalar `vsqrtss`, each with a
// branch to `sqrtf` for errno: the AdaGrad kernels spent most of their time
// there. Clang's element-wise builtin is one `vsqrtps` on AVX (and the
// matching instruction elsewhere), with no errno to keep. Swift sees the
// eight-lane vector type as `SIMD8<Float>`.
#ifndef SOUNDER_CVECTORMATH_H
#define SOUNDER_CVECTORMATH_H

typedef float cvectormath_float8 __attribute__((ext_vector_type(8)));

/// `√x` in each lane, correctly rounded (IEEE square root).
static inline __attribute__((always_inline)) cvectormath_float8
cvectormath_sqrt8(cvectormath_float8 x) {
  return __builtin_elementwise_sqrt(x);
}

/// `√x`, correctly rounded, with no errno branch.
static inline __attribute__((always_inline)) float cvectormath_sqrt(float x) {
  return __builtin_elementwise_sqrt(x);
}

#endif
