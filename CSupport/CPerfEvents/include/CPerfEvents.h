// Hardware event counters through Linux's perf_event_open, for the profile
// report: cycles, instructions and last-level-cache misses of this process
// and every thread it starts after the counters open. Swift cannot call the
// variadic syscall() or use the kernel's struct directly, hence this shim.
#ifndef SOUNDER_CPERFEVENTS_H
#define SOUNDER_CPERFEVENTS_H
#include <stdint.h>

/// The events `cperf_open` counts.
typedef enum {
  CPERF_CYCLES = 0,
  CPERF_INSTRUCTIONS = 1,
  CPERF_LLC_MISSES = 2,
} cperf_event;

/// Opens a disabled counter of `event` for this process and the threads it
/// creates from now on (user space only). Returns a file descriptor, or
/// -errno when the kernel refuses (no PMU in a VM, perf_event_paranoid, ...).
int cperf_open(cperf_event event);

/// Zeroes and starts the counter.
int cperf_start(int descriptor);

/// Stops the counter and returns its value scaled for multiplexing (the
/// kernel may share the PMU among counters), or -1 on error.
int64_t cperf_stop(int descriptor);

/// Closes the counter.
void cperf_close(int descriptor);
#endif
