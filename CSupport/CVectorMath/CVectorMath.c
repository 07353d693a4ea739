// The helpers are header-only (static inline) so they inline into Swift
// callers; SwiftPM needs one source file to build the module.
#include "CVectorMath.h"
