// What an epoch of dense logistic SGD can cost on one core, the yardstick for
// issue 13's "dense at the floor" (BENCHMARKS.md, "Dense SGD against C"). C with
// AVX2 intrinsics, one thread, the rows of a dense .sds file (as `sounder
// generate --kind dense-classification` writes them) read in order from the
// mapped file, the work of Sounder's default dense step: the margin b + w·x,
// the logistic loss at it tallied, its derivative d, and w ← w − η d x,
// b ← b − η d with η = η₀ (t + 1)^(−1/4), read every 64 rows. Three loops:
//   plain:     one row after the other (each margin waits for the last update);
//   ahead:     the next row's margin computed before this row's update and
//              corrected by −η d (x·x₊) after it, as Sounder's step does;
//   prefetch:  ahead, and each row's lines fetched 16 rows before it is read.
// Build and run (64 features):
//   gcc -O3 -mavx2 -mfma -o /tmp/sgd-reference tools/sgd-reference.c -lm
//   /tmp/sgd-reference dense.sds ahead 5 0.0614
// Prints each epoch's seconds and its mean loss.
#include <immintrin.h>
#include <math.h>

#include "reference.h"

#define D 64

static inline float sum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

static inline float dot(const float *a, const float *b) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  for (int j = 0; j < D; j += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8), s1);
  }
  return sum8(_mm256_add_ps(s0, s1));
}

static inline void axpy(float a, const float *x, float *w) {
  __m256 va = _mm256_set1_ps(a);
  for (int j = 0; j < D; j += 8)
    _mm256_storeu_ps(w + j, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + j), _mm256_loadu_ps(w + j)));
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: sgd-reference FILE.sds plain|ahead|prefetch [EPOCHS] [RATE]\n");
    return 1;
  }
  int mode = strcmp(argv[2], "plain") == 0 ? 0 : strcmp(argv[2], "ahead") == 0 ? 1 : 2;
  int epochs = argc > 3 ? atoi(argv[3]) : 5;
  float rate = argc > 4 ? (float)atof(argv[4]) : 0.0614f;
  size_t size;
  const unsigned char *file = map_file(argv[1], &size);
  if (memcmp(file, "SOUNDSDS", 8) != 0 || file[16] != 0 || u64(file + 32) != D) {
    fprintf(stderr, "%s: not a dense .sds file of %d features\n", argv[1], D);
    return 1;
  }
  long rows = (long)u64(file + 24);
  const float *x = (const float *)(file + u64(file + 48));
  const float *labels = (const float *)(file + u64(file + 48 + 72));
  float w[D] __attribute__((aligned(32))) = {0}, b = 0;
  long t = 0;
  float eta = rate;
  for (int epoch = 1; epoch <= epochs; epoch++) {
    double start = now(), loss = 0;
    float m = dot(w, x) + b;
    for (long row = 0; row < rows; row++, t++) {
      const float *xr = x + row * D;
      if (mode == 0) m = dot(w, xr) + b;
      if (mode == 2 && row + 16 < rows)
        for (int line = 0; line < D * 4; line += 64) _mm_prefetch((const char *)(xr + 16 * D) + line, _MM_HINT_T0);
      float y = labels[row] > 0 ? 1.0f : -1.0f;
      float z = y * m;
      loss += z > 0 ? log1pf(expf(-z)) : -z + log1pf(expf(z));
      // η read every 64 rows, as Sounder does (powf per row cost 20 ns of a ~45 ns step).
      if ((row & 63) == 0) eta = rate * powf((float)(t + 1), -0.25f);
      float step = -eta * (-y / (1.0f + expf(z)));
      if (mode > 0 && row + 1 < rows) {
        // The next margin before this update, then corrected by the update's share of it.
        const float *next = xr + D;
        float ahead = dot(w, next) + b;
        axpy(step, xr, w);
        b += step;
        m = ahead + step * (dot(xr, next) + 1);
      } else {
        axpy(step, xr, w);
        b += step;
      }
    }
    double seconds = now() - start;
    printf("%s epoch %d: %.4f s, mean loss %.6f\n", argv[2], epoch, seconds, loss / rows);
  }
  return 0;
}
