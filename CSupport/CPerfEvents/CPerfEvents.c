#include "CPerfEvents.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int cperf_open(cperf_event event) {
  struct perf_event_attr attributes;
  memset(&attributes, 0, sizeof attributes);
  attributes.size = sizeof attributes;
  attributes.type = PERF_TYPE_HARDWARE;
  switch (event) {
  case CPERF_CYCLES: attributes.config = PERF_COUNT_HW_CPU_CYCLES; break;
  case CPERF_INSTRUCTIONS: attributes.config = PERF_COUNT_HW_INSTRUCTIONS; break;
  case CPERF_LLC_MISSES: attributes.config = PERF_COUNT_HW_CACHE_MISSES; break;
  default: return -EINVAL;
  }
  attributes.disabled = 1;
  attributes.inherit = 1;
  attributes.exclude_kernel = 1;
  attributes.exclude_hv = 1;
  attributes.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
  long descriptor = syscall(SYS_perf_event_open, &attributes, 0, -1, -1, 0);
  return descriptor < 0 ? -errno : (int)descriptor;
}

int cperf_start(int descriptor) {
  if (ioctl(descriptor, PERF_EVENT_IOC_RESET, 0) != 0) return -errno;
  return ioctl(descriptor, PERF_EVENT_IOC_ENABLE, 0) == 0 ? 0 : -errno;
}

int64_t cperf_stop(int descriptor) {
  ioctl(descriptor, PERF_EVENT_IOC_DISABLE, 0);
  uint64_t values[3];
  if (read(descriptor, values, sizeof values) != sizeof values) return -1;
  if (values[2] == 0) return 0;  // never scheduled on the PMU
  return (int64_t)((double)values[0] * (double)values[1] / (double)values[2]);
}

void cperf_close(int descriptor) { close(descriptor); }
