// What a Lloyd iteration can cost on this machine, the yardstick for the
// k = 8 target of issue 15 (BENCHMARKS.md, "Lloyd at k = 8"). C with AVX2
// intrinsics, one OpenMP thread per core, the rows of a float32 .npy file
// (n × 64, C order, mapped as Sounder maps its files) against k = 8 centres
// (rows 0, 7, 14, … of the data), eight rows at a time:
//   kernel: the 8 × 8 products x·c in eight registers, then each row's
//           nearest centre (branch-free: lane minimum, compare, mask);
//   full:   the same, then every row added to its centre's sums in Double
//           and its squared distance summed from the differences, as
//           Sounder's `sounder cluster` does;
//   float:  the same, but sums in Float and the distance from the score
//           (‖x‖² + ‖c‖² − 2 x·c): less work, less precision;
//   float-exact: sums in Float, the distance from the differences (Sounder's
//           choice since its Float windows of rows).
// Build and run (the .npy from tools/compare --kmeans):
//   gcc -O3 -mavx2 -mfma -fopenmp -o /tmp/lloyd-reference tools/lloyd-reference.c
//   OMP_NUM_THREADS=2 /tmp/lloyd-reference /tmp/sounder-compare/blobs-1000000x64-seed1.npy full
// Prints the best and median of 10 iterations and the bytes read per second.
#include <immintrin.h>
#include <omp.h>

#include "reference.h"

#define D 64
#define K 8
#define ITERATIONS 10

static int ascending(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: lloyd-reference FILE.npy kernel|full|float|float-exact\n");
    return 1;
  }
  int mode = strcmp(argv[2], "kernel") == 0  ? 0
             : strcmp(argv[2], "full") == 0  ? 1
             : strcmp(argv[2], "float") == 0 ? 2
                                             : 3;
  size_t size;
  const unsigned char *file = map_file(argv[1], &size);
  // .npy version 1: magic (6), version (2), header length (2, little-endian), header.
  size_t header = 10 + (file[8] | file[9] << 8);
  long n = (size - header) / (D * sizeof(float));
  const float *x = (const float *)(file + header);

  float panel[D * K] __attribute__((aligned(32)));
  float norms[K], centres[K * D];
  for (int c = 0; c < K; c++) {
    double norm = 0;
    for (int j = 0; j < D; j++) {
      centres[c * D + j] = panel[j * K + c] = x[(long)c * 7 * D + j];
      norm += (double)centres[c * D + j] * centres[c * D + j];
    }
    norms[c] = (float)norm;
  }
  double seconds[ITERATIONS], inertia = 0;
  for (int it = 0; it < ITERATIONS; it++) {
    double start = now();
    inertia = 0;
#pragma omp parallel reduction(+ : inertia)
    {
      int threads = omp_get_num_threads(), me = omp_get_thread_num();
      long first = n * me / threads, last = n * (me + 1) / threads;
      double sums[K * D] = {0}, counts[K] = {0};
      float fsums[K * D] = {0};
      __m256 norm8 = _mm256_loadu_ps(norms), minus2 = _mm256_set1_ps(-2);
      for (long r0 = first; r0 + 8 <= last; r0 += 8) {
        const float *rows = x + r0 * D;
        __m256 a[8];
        for (int r = 0; r < 8; r++) a[r] = _mm256_setzero_ps();
        for (int j = 0; j < D; j++) {
          __m256 p = _mm256_load_ps(panel + j * K);
          for (int r = 0; r < 8; r++) a[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(rows + r * D + j), p, a[r]);
        }
        int label[8];
        float score[8];
        for (int r = 0; r < 8; r++) {
          __m256 s = _mm256_fmadd_ps(minus2, a[r], norm8);
          __m256 m = _mm256_min_ps(s, _mm256_permute2f128_ps(s, s, 1));
          m = _mm256_min_ps(m, _mm256_shuffle_ps(m, m, 0x4e));
          m = _mm256_min_ps(m, _mm256_shuffle_ps(m, m, 0xb1));
          label[r] = __builtin_ctz(_mm256_movemask_ps(_mm256_cmp_ps(s, m, _CMP_EQ_OQ)));
          score[r] = _mm256_cvtss_f32(m);
        }
        if (mode == 0) {
          counts[label[0]] += 1;
          continue;
        }
        for (int r = 0; r < 8; r++) {
          const float *row = rows + r * D;
          const float *centre = centres + label[r] * D;
          __m256 squares = _mm256_setzero_ps();
          counts[label[r]] += 1;
          for (int j = 0; j < D; j += 8) {
            __m256 v = _mm256_loadu_ps(row + j);
            if (mode == 3) {
              __m256 difference = _mm256_sub_ps(v, _mm256_loadu_ps(centre + j));
              squares = _mm256_fmadd_ps(difference, difference, squares);
              float *s = fsums + label[r] * D + j;
              _mm256_storeu_ps(s, _mm256_add_ps(_mm256_loadu_ps(s), v));
            } else if (mode == 1) {
              __m256 difference = _mm256_sub_ps(v, _mm256_loadu_ps(centre + j));
              squares = _mm256_fmadd_ps(difference, difference, squares);
              double *s = sums + label[r] * D + j;
              _mm256_storeu_pd(s, _mm256_add_pd(_mm256_loadu_pd(s), _mm256_cvtps_pd(_mm256_castps256_ps128(v))));
              _mm256_storeu_pd(s + 4, _mm256_add_pd(_mm256_loadu_pd(s + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))));
            } else {
              squares = _mm256_fmadd_ps(v, v, squares);
              float *s = fsums + label[r] * D + j;
              _mm256_storeu_ps(s, _mm256_add_ps(_mm256_loadu_ps(s), v));
            }
          }
          float q[8];
          _mm256_storeu_ps(q, squares);
          inertia += q[0] + q[1] + q[2] + q[3] + q[4] + q[5] + q[6] + q[7] + (mode == 2 ? score[r] : 0);
        }
      }
      // Keeps the sums and labels live: a checksum, not a result.
      inertia += sums[0] + fsums[0] + counts[0];
    }
    seconds[it] = now() - start;
  }
  qsort(seconds, ITERATIONS, sizeof seconds[0], ascending);
  printf("%s, %d threads, %ld rows: best %.2f ms, median %.2f ms an iteration, %.1f GB/s at best (checksum %g)\n",
         argv[2], omp_get_max_threads(), n, seconds[0] * 1e3, seconds[ITERATIONS / 2] * 1e3,
         n * D * sizeof(float) / seconds[0] / 1e9, inertia);
  return 0;
}
