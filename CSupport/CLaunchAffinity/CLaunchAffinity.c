// The process's CPU mask at start-up, kept before Sounder pins any thread:
// afterwards the main thread may be pinned to one CPU, and the mask of the
// process would no longer say which CPUs it was given.
#define _GNU_SOURCE
#include "CLaunchAffinity.h"
#include <sched.h>

static cpu_set_t launch_mask;
static int launch_status = -1;

__attribute__((constructor)) static void claunch_read_mask(void) {
  CPU_ZERO(&launch_mask);
  launch_status = sched_getaffinity(0, sizeof(launch_mask), &launch_mask);
}

int claunch_allowed_cpus(int *cpus, int capacity) {
  if (launch_status != 0) return -1;
  int count = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (CPU_ISSET(cpu, &launch_mask)) {
      if (count < capacity) cpus[count] = cpu;
      count++;
    }
  }
  return count;
}
