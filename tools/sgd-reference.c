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
// With `whole` after the rate, it also does what a whole `sounder train` run
// does around its epochs, on every core (OpenMP): every value and label
// checked finite (the first touch of the mapped file), the labels made ±1,
// and after the epochs one pass for the final training metrics (margin,
// accuracy, log-loss, hinge and a rank key a row) and the ROC AUC's radix
// sort of the keys (three passes of 11 bits). The yardstick for "a 5-epoch
// run within 1.25× its epochs" (BENCHMARKS.md, "Whole run against C").
// Build and run (64 features):
//   gcc -O3 -mavx2 -mfma -fopenmp -o /tmp/sgd-reference tools/sgd-reference.c -lm
//   /tmp/sgd-reference dense.sds ahead 5 0.0614 [whole]
// Prints each epoch's seconds and its mean loss (and with `whole` the phases).
#include <immintrin.h>
#include <math.h>

#include "reference.h"

#ifndef D
#define D 64  // features; -DD=128 for 128
#endif

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

// The first non-finite value among `n` floats (n when none), on every core.
static long first_non_finite(const float *v, long n) {
  long first = n;
#pragma omp parallel for reduction(min : first) schedule(static)
  for (long chunk = 0; chunk < n; chunk += 65536) {
    long end = chunk + 65536 < n ? chunk + 65536 : n;
    unsigned bad = 0;
    for (long i = chunk; i < end; i++) {
      unsigned bits;
      memcpy(&bits, v + i, 4);
      bad |= (bits & 0x7F800000u) == 0x7F800000u;
    }
    if (bad)
      for (long i = chunk; i < end; i++)
        if (!isfinite(v[i]) && i < first) first = i;
  }
  return first;
}

// A row's score as an order-preserving key, shifted up one bit, its label in the low bit.
static inline uint64_t rank_key(float score, int positive) {
  uint32_t bits;
  if (score == 0) score = 0;
  memcpy(&bits, &score, 4);
  uint32_t key = bits & 0x80000000u ? ~bits : bits | 0x80000000u;
  return (uint64_t)key << 1 | (uint64_t)positive;
}

// The ROC AUC from the keys (sorted in place: three counting passes of 11 bits), ties at mean ranks.
static double roc_auc(uint64_t *keys, long n) {
  uint64_t *spare = malloc(n * sizeof *spare);
  for (int shift = 1; shift <= 23; shift += 11) {
    long start[2048] = {0};
    for (long i = 0; i < n; i++) start[(keys[i] >> shift) & 2047]++;
    long sum = 0;
    for (int b = 0; b < 2048; b++) {
      long here = start[b];
      start[b] = sum;
      sum += here;
    }
    for (long i = 0; i < n; i++) spare[start[(keys[i] >> shift) & 2047]++] = keys[i];
    memcpy(keys, spare, n * sizeof *keys);
  }
  free(spare);
  double rank_sum = 0, positives = 0;
  for (long i = 0; i < n;) {
    long end = i;
    double group = keys[i] & 1;
    while (end + 1 < n && keys[end + 1] >> 1 == keys[i] >> 1) group += keys[++end] & 1;
    rank_sum += group * ((i + end) / 2.0 + 1);
    positives += group;
    i = end + 1;
  }
  return (rank_sum - positives * (positives + 1) / 2) / (positives * (n - positives));
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
  const float *given = (const float *)(file + u64(file + 48 + 72));
  int whole = argc > 5 && strcmp(argv[5], "whole") == 0;
  double started = now(), checked = started, prepared = started, trained = 0;
  const float *labels = given;
  if (whole) {
    long bad = first_non_finite(x, rows * D), badLabel = first_non_finite(given, rows);
    if (bad < rows * D || badLabel < rows) {
      fprintf(stderr, "%s: a value is not finite\n", argv[1]);
      return 1;
    }
    checked = now();
    float *signs = malloc(rows * sizeof *signs);
    for (long row = 0; row < rows; row++) signs[row] = given[row] > 0 ? 1.0f : -1.0f;
    labels = signs;
    prepared = now();
  }
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
    trained += seconds;
    printf("%s epoch %d: %.4f s, mean loss %.6f\n", argv[2], epoch, seconds, loss / rows);
  }
  if (!whole) return 0;
  double final = now(), correct = 0, logLoss = 0, hinge = 0;
  uint64_t *keys = malloc(rows * sizeof *keys);
#pragma omp parallel for reduction(+ : correct, logLoss, hinge) schedule(static)
  for (long row = 0; row < rows; row++) {
    float m = dot(w, x + row * D) + b, y = labels[row], z = y * m;
    correct += (m >= 0) == (y > 0);
    logLoss += z > 0 ? log1pf(expf(-z)) : -z + log1pf(expf(z));
    hinge += z < 1 ? 1 - z : 0;
    keys[row] = rank_key(m, y > 0);
  }
  double auc = roc_auc(keys, rows), done = now();
  printf("whole: check %.4f s, labels %.4f s, epochs %.4f s, final metrics %.4f s (accuracy %.4f, log-loss %.5f, "
         "AUC %.4f, hinge %.5f); in the process %.4f s, %.2f× the epochs\n",
         checked - started, prepared - checked, trained, done - final, correct / rows, logLoss / rows, auc,
         hinge / rows, done - started, (done - started) / trained);
  return 0;
}
