/* The guard against a `ptr` result that is really a static buffer
 * (ptr_guard.c). */
#ifndef LM_PTR_GUARD_H
#define LM_PTR_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime.h"

/* Does M return `ptr`, so that its results are watched? */
bool lm_ptr_guarded(const struct lm_rt_method *m);
/* Record RET as the result for the key of hash HASH; true when the last
 * result recorded was the same non-NULL address for another key. */
bool lm_ptr_repeats(struct lm_rt_method *m, uint64_t hash, uint64_t ret);
/* Mark M's result as a reused buffer and warn once, naming the config
 * line; WHAT says what ldmemo does about it. */
void lm_ptr_static(struct lm_rt_method *m, const char *what);

#endif
