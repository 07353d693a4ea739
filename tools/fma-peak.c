// The machine's fused multiply-add peak, the k = 256 k-means target's yardstick
// (BENCHMARKS.md, "k-means: what the run says"): T threads, each twelve
// independent 8-lane FMA chains in registers. Build and run:
//   gcc -O3 -mavx2 -mfma -o /tmp/fma-peak tools/fma-peak.c -lpthread && /tmp/fma-peak 2
#include <immintrin.h>
#include <stdlib.h>
#include <stdio.h>
#include <pthread.h>
#include <time.h>
#define N 400000000L
static void *run(void *arg) {
  __m256 a[12]; __m256 x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(0.9999999f);
  for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
  for (long n = 0; n < N / 12; n++)
    for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], x, y);
  float s = 0; for (int i = 0; i < 12; i++) s += a[i][0];
  *(float *)arg = s; return 0;
}
int main(int argc, char **argv) {
  int t = argc > 1 ? atoi(argv[1]) : 1; pthread_t th[64]; float out[64];
  struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < t; i++) pthread_create(&th[i], 0, run, &out[i]);
  for (int i = 0; i < t; i++) pthread_join(th[i], 0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9;
  printf("%d threads: %.1f GFLOP/s (%g)\n", t, t * (double)N * 16 / s / 1e9, out[0]);
}
