// Sounder's Kernels and Learning modules are built with -march=x86-64-v3 on
// x86-64 Linux (see README "Build settings"); Package.swift then defines
// SOUNDER_REQUIRE_X86_64_V3 for this file. On a CPU without AVX2 and FMA such
// a build would die with SIGILL at the first vector instruction, somewhere in
// the middle of a run. This file is compiled without CPU flags, so it runs on
// any x86-64, and stops the program at start-up with a message saying why and
// what to do instead.
#include "CCPUCheck.h"
#include <stdio.h>
#include <stdlib.h>

int ccpu_kernels_require_x86_64_v3(void) {
#if defined(SOUNDER_REQUIRE_X86_64_V3)
  return 1;
#else
  return 0;
#endif
}

int ccpu_supports_x86_64_v3(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
#else
  return 1;
#endif
}

// Defined by the C library (CSupport/CSounder): there the check must not stop
// the host program, which may be a Python interpreter; the library refuses
// every call with SOUNDER_ERROR_CPU and a message instead. Weak, so that it is
// null in every program that does not link the C library.
extern const int csounder_reports_cpu_errors __attribute__((weak));

__attribute__((constructor)) static void ccpu_check_at_start(void) {
  if (&csounder_reports_cpu_errors != 0) return;
  if (ccpu_kernels_require_x86_64_v3() && !ccpu_supports_x86_64_v3()) {
    fputs("Sounder: this build's kernels need an x86-64-v3 CPU (AVX2 and FMA), and this CPU "
          "lacks them. Rebuild with SOUNDER_PORTABLE=1 in the environment for a portable "
          "(much slower) build; see README, \"Build settings\".\n",
          stderr);
    exit(EXIT_FAILURE);
  }
}
