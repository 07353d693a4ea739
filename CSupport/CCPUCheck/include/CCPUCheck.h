// Start-up check that the CPU can run the instructions the vector kernels
// were compiled for. Nothing to call: CCPUCheck.c runs the check from an ELF
// constructor, before main, in code compiled for the plain x86-64 baseline.
#ifndef SOUNDER_CCPUCHECK_H
#define SOUNDER_CCPUCHECK_H

/// 1 if this build's kernels were compiled for x86-64-v3 (AVX2 + FMA), else 0.
int ccpu_kernels_require_x86_64_v3(void);

/// 1 if the running CPU has x86-64-v3 (AVX2, FMA, BMI1/2, ...), else 0;
/// always 1 on other architectures.
int ccpu_supports_x86_64_v3(void);
#endif
