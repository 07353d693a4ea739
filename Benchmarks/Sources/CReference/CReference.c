#include "CReference.h"
#include <immintrin.h>

static float horizontal_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

float cref_dot(const float *x, const float *y, ptrdiff_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  ptrdiff_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), a3);
  }
  for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
  float sum = horizontal_sum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; i++) sum += x[i] * y[i];
  return sum;
}

void cref_axpy(float a, const float *restrict x, float *restrict y, ptrdiff_t n) {
  for (ptrdiff_t i = 0; i < n; i++) y[i] += a * x[i];
}

float cref_step(const float *x, float *w, ptrdiff_t n, float (*coefficient)(float)) {
  float m = cref_dot(x, w, n);
  cref_axpy(coefficient(m), x, w, n);
  return m;
}

void cref_margins(const float *X, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t stride, const float *w, float *m) {
  for (ptrdiff_t r = 0; r < rows; r++) m[r] = cref_dot(X + r * stride, w, cols);
}

void cref_accumulate_transposed(
    const float *X, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t stride, const float *c, float *g) {
  for (ptrdiff_t r = 0; r < rows; r++) cref_axpy(c[r], X + r * stride, g, cols);
}

float cref_sparse_dot(const int32_t *indices, const float *values, ptrdiff_t nnz, const float *w) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  ptrdiff_t k = 0;
  for (; k + 4 <= nnz; k += 4) {
    s0 += values[k] * w[indices[k]];
    s1 += values[k + 1] * w[indices[k + 1]];
    s2 += values[k + 2] * w[indices[k + 2]];
    s3 += values[k + 3] * w[indices[k + 3]];
  }
  for (; k < nnz; k++) s0 += values[k] * w[indices[k]];
  return (s0 + s1) + (s2 + s3);
}

void cref_sparse_axpy(float a, const int32_t *indices, const float *values, ptrdiff_t nnz, float *w) {
  for (ptrdiff_t k = 0; k < nnz; k++) w[indices[k]] += a * values[k];
}

float cref_read_sum(const float *x, ptrdiff_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  ptrdiff_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
  }
  float sum = horizontal_sum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; i++) sum += x[i];
  return sum;
}

float cref_read_sum2(const float *x, const float *y, ptrdiff_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  ptrdiff_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(y + i));
    a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 8));
    a3 = _mm256_add_ps(a3, _mm256_loadu_ps(y + i + 8));
  }
  float sum = horizontal_sum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  for (; i < n; i++) sum += x[i] + y[i];
  return sum;
}
