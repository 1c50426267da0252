/* The runtime record (runtime.h). */
#include "runtime.h"

struct lm_runtime *lm_rt;
