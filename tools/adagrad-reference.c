// What an epoch of sparse AdaGrad can cost on one core, the yardstick for
// issue 13's "AdaGrad within 10% of C" (BENCHMARKS.md, "AdaGrad against C").
// C, one thread, the rows of a CSR .sds file (as `sounder generate --kind
// sparse-classification` writes them) read in order from the mapped file, the
// same work per row as Sounder's default sparse step: the margin
// b + Σ wⱼxⱼ, the logistic loss at that margin tallied, its derivative d, then
// for each stored value and for the intercept AdaGrad's update
//   g = d xⱼ;  Gⱼ ← Gⱼ + g²;  wⱼ ← wⱼ − η g / √(Gⱼ + ε²)
// with the processor's reciprocal square root and one Newton step, as Sounder's.
// Build and run:
//   gcc -O3 -march=native -o /tmp/adagrad-reference tools/adagrad-reference.c -lm
//   /tmp/adagrad-reference sparse.sds 5 0.5
// Prints each epoch's seconds, its mean loss and the nanoseconds per stored value.
#include <immintrin.h>
#include <math.h>

#include "reference.h"

// 1/√x to about 22 bits: the estimate and one Newton step.
static inline float rsqrt(float x) {
  float r = _mm_cvtss_f32(_mm_rsqrt_ss(_mm_set_ss(x)));
  return r * (1.5f - 0.5f * x * r * r);
}

static inline void adagrad(float *w, float *sum, float g, float rate) {
  float squares = *sum + g * g;
  *sum = squares;
  *w -= rate * rsqrt(squares + 1e-16f) * g;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: adagrad-reference FILE.sds [EPOCHS] [RATE]\n");
    return 1;
  }
  int epochs = argc > 2 ? atoi(argv[2]) : 5;
  float rate = argc > 3 ? (float)atof(argv[3]) : 0.5f;
  size_t size;
  const unsigned char *file = map_file(argv[1], &size);
  if (memcmp(file, "SOUNDSDS", 8) != 0 || file[16] != 1) {
    fprintf(stderr, "%s: not a CSR .sds file\n", argv[1]);
    return 1;
  }
  // The header: rows, columns, non-zeros, then per section its offset and length.
  long rows = (long)u64(file + 24), columns = (long)u64(file + 32), nonZeros = (long)u64(file + 40);
  const float *values = (const float *)(file + u64(file + 48));
  const int64_t *offsets = (const int64_t *)(file + u64(file + 48 + 24));
  const int32_t *indices = (const int32_t *)(file + u64(file + 48 + 48));
  const float *labels = (const float *)(file + u64(file + 48 + 72));
  float *w = calloc(columns, sizeof(float)), *sums = calloc(columns, sizeof(float));
  float b = 0, bSum = 0;
  for (int epoch = 1; epoch <= epochs; epoch++) {
    double start = now(), loss = 0;
    for (long row = 0; row < rows; row++) {
      float y = labels[row] > 0 ? 1.0f : -1.0f;
      int64_t first = offsets[row], last = offsets[row + 1];
      float m = b;
      for (int64_t k = first; k < last; k++) m += w[indices[k]] * values[k];
      float z = y * m;
      loss += z > 0 ? log1pf(expf(-z)) : -z + log1pf(expf(z));
      float d = -y / (1.0f + expf(z));
      for (int64_t k = first; k < last; k++) adagrad(&w[indices[k]], &sums[indices[k]], d * values[k], rate);
      adagrad(&b, &bSum, d, rate);
    }
    double seconds = now() - start;
    printf("epoch %d: %.4f s, mean loss %.6f, %.2f ns per stored value\n", epoch, seconds, loss / rows,
           seconds / nonZeros * 1e9);
  }
  return 0;
}
