/* The re-entrancy guard's per-thread word (guard.h). */
#include "guard.h"

__thread int lm_in_shim;
