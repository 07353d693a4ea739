// The parts of the C library that Swift cannot write: the thread-local text
// behind sounder_last_error(), and the symbol that tells the start-up CPU
// check (CSupport/CCPUCheck) to leave the host program running.
#include "sounder.h"
#include "sounder_internal.h"
#include <string.h>

const int csounder_reports_cpu_errors = 1;

// One line per thread; a longer message is cut (at a UTF-8 boundary, by the
// Swift side that sets it). A fixed buffer: nothing to free when a thread ends.
static _Thread_local char last_error[1024];

const char *sounder_last_error(void) { return last_error; }

void csounder_set_last_error(const char *message, size_t length) {
  if (length > sizeof last_error - 1) length = sizeof last_error - 1;
  memcpy(last_error, message, length);
  last_error[length] = '\0';
}
