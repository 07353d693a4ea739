// Only the declaration in include/CFuzzDriver.h: libFuzzer defines the function.
#include "CFuzzDriver.h"
