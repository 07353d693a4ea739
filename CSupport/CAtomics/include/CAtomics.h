// Relaxed atomic loads and stores of floats and doubles, and a spin-wait hint.
//
// Lock-free (Hogwild!) strategies let several threads read and write one model
// without locks. Doing that through plain pointers is a data race, which is
// undefined behaviour; doing it through relaxed atomics is defined, lets the
// thread sanitizer check the rest of the engine, and on x86-64 compiles to the
// same plain `vmovss` a racy access would (checked with objdump by
// tools/check-atomics). The float travels as its 32-bit pattern because C
// compilers reject `__atomic_load_n` on a float pointer.
#ifndef SOUNDER_CATOMICS_H
#define SOUNDER_CATOMICS_H
#include <stdint.h>
#include <string.h>

/// Reads `*address` with a relaxed atomic load.
static inline __attribute__((always_inline)) float
catomics_load_relaxed(const float *address) {
  uint32_t bits = __atomic_load_n((const uint32_t *)address, __ATOMIC_RELAXED);
  float value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

/// Writes `value` to `*address` with a relaxed atomic store.
static inline __attribute__((always_inline)) void
catomics_store_relaxed(float *address, float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  __atomic_store_n((uint32_t *)address, bits, __ATOMIC_RELAXED);
}

/// `*address += delta` as a relaxed load followed by a relaxed store: not an
/// atomic read-modify-write. A concurrent update between the two can be lost,
/// which is exactly the race Hogwild! tolerates.
static inline __attribute__((always_inline)) void
catomics_add_relaxed(float *address, float delta) {
  catomics_store_relaxed(address, catomics_load_relaxed(address) + delta);
}

/// Reads `*address` with a relaxed atomic load (a Double shared without locks,
/// as mini-batch k-means's Hogwild! centre sums are).
static inline __attribute__((always_inline)) double
catomics_load_relaxed_f64(const double *address) {
  uint64_t bits = __atomic_load_n((const uint64_t *)address, __ATOMIC_RELAXED);
  double value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

/// `*address += delta` for a shared Double as a relaxed load followed by a
/// relaxed store: as `catomics_add_relaxed`, a concurrent update can be lost.
static inline __attribute__((always_inline)) void
catomics_add_relaxed_f64(double *address, double delta) {
  double value = catomics_load_relaxed_f64(address) + delta;
  uint64_t bits;
  memcpy(&bits, &value, sizeof bits);
  __atomic_store_n((uint64_t *)address, bits, __ATOMIC_RELAXED);
}

/// Reads a 64-bit counter another thread writes, with a relaxed atomic load.
static inline __attribute__((always_inline)) uint64_t
catomics_load_relaxed_u64(const uint64_t *address) {
  return __atomic_load_n(address, __ATOMIC_RELAXED);
}

/// `*address += delta` for a counter only this thread writes: a relaxed load
/// and store (a plain `add` to memory on x86-64), which readers on other
/// threads may sample at any time.
static inline __attribute__((always_inline)) void
catomics_add_relaxed_u64(uint64_t *address, uint64_t delta) {
  __atomic_store_n(address, __atomic_load_n(address, __ATOMIC_RELAXED) + delta, __ATOMIC_RELAXED);
}

/// Tells the CPU this thread is spinning (x86 `pause`), so a waiting
/// hyperthread yields its pipeline to its sibling.
static inline __attribute__((always_inline)) void catomics_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}
#endif
