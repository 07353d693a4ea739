// Reference kernels in C, compiled with -O3 -march=native: what the Swift
// kernels in Sources/Kernels are measured against. Each is written the way a
// C programmer would write it for speed: AVX2 intrinsics with four
// accumulators where the compiler would not vectorise by itself (float
// reductions without -ffast-math), plain loops where it does (axpy).
#ifndef SOUNDER_CREFERENCE_H
#define SOUNDER_CREFERENCE_H
#include <stddef.h>
#include <stdint.h>

/// Σᵢ x[i] y[i].
float cref_dot(const float *x, const float *y, ptrdiff_t n);
/// y[i] += a x[i].
void cref_axpy(float a, const float *x, float *y, ptrdiff_t n);
/// m = w·x; w += coefficient(m) x; returns m.
float cref_step(const float *x, float *w, ptrdiff_t n, float (*coefficient)(float));
/// Σₖ values[k] w[indices[k]].
float cref_sparse_dot(const int32_t *indices, const float *values, ptrdiff_t nnz, const float *w);
/// w[indices[k]] += a values[k].
void cref_sparse_axpy(float a, const int32_t *indices, const float *values, ptrdiff_t nnz, float *w);
/// m[r] = X[r]·w for each of `rows` rows `stride` floats apart: one dot per row.
void cref_margins(const float *X, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t stride, const float *w, float *m);
/// g += Σᵣ c[r] X[r]: one axpy per row.
void cref_accumulate_transposed(
    const float *X, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t stride, const float *c, float *g);
/// Σᵢ x[i]: the STREAM-style read probe, reading every byte once, one stream.
float cref_read_sum(const float *x, ptrdiff_t n);
/// Σᵢ x[i] + y[i]: the same probe over two streams, the access pattern of a dot.
float cref_read_sum2(const float *x, const float *y, ptrdiff_t n);
#endif
