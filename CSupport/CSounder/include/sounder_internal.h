// Declarations the Swift half of the C library needs and its users do not:
// not installed with sounder.h.
#ifndef SOUNDER_INTERNAL_H
#define SOUNDER_INTERNAL_H
#include <stddef.h>

/// Sets this thread's sounder_last_error() to `length` bytes of `message`
/// (cut to the buffer's size; the caller cuts at a character boundary).
void csounder_set_last_error(const char *message, size_t length);

/// Defined as 1 by the C library; see CSupport/CCPUCheck/CCPUCheck.c.
extern const int csounder_reports_cpu_errors;
#endif
