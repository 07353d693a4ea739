// What Swift needs from hwloc. Everything hwloc declares imports directly,
// except its statement macros, which Swift code replaces with bitmap loops.
#ifndef SOUNDER_CHWLOC_SHIM_H
#define SOUNDER_CHWLOC_SHIM_H
#include <hwloc.h>

// hwloc's API version, as a function: the macro is an expression Swift sees,
// but a function keeps the version check in one place.
static inline unsigned cswift_hwloc_api_version(void) { return HWLOC_API_VERSION; }
#endif
