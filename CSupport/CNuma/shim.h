// What Swift needs from libnuma and the kernel's NUMA system calls.
#ifndef SOUNDER_CNUMA_SHIM_H
#define SOUNDER_CNUMA_SHIM_H
#include <numa.h>
#include <numaif.h>

// Glibc declares sched_getcpu only under _GNU_SOURCE, which Swift's Glibc
// module does not define.
extern int sched_getcpu(void);

// The memory-policy constants are macros; as typed functions they import
// without casts at every call site.
static inline int cnuma_mpol_bind(void) { return MPOL_BIND; }
static inline unsigned cnuma_mpol_mf_move(void) { return MPOL_MF_MOVE; }
static inline unsigned cnuma_mpol_mf_strict(void) { return MPOL_MF_STRICT; }
#endif
