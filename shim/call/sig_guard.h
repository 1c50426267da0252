/* The shim's guards against a signature that cannot be right
 * (sig_guard.c): a `ptr` result that is really a static buffer, a pointer
 * parameter over an argument that is no pointer. */
#ifndef LM_SIG_GUARD_H
#define LM_SIG_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "shim/call/runtime.h"

/* Does M return `ptr`, so that its results are watched? */
bool lm_ptr_guarded(const struct lm_rt_method *m);
/* Record RET as the result for the key of hash HASH; true when the last
 * result recorded was the same non-NULL address for another key. */
bool lm_ptr_repeats(struct lm_rt_method *m, uint64_t hash, uint64_t ret);
/* Mark M's result as a reused buffer and warn once, naming the config
 * line; WHAT says what ldmemo does about it. */
void lm_ptr_static(struct lm_rt_method *m, const char *what);

/* How many calls of a method with str, buf or out parameters have their
 * pointer arguments checked before the hit path trusts them. */
#define LM_ARG_CHECKS 16

/* Check F's pointer arguments while M->arg_checks lasts: -1 (and a
 * warning once, naming the config line) when one cannot be a pointer, the
 * method then bypassed for good. */
int lm_arg_guard(struct lm_rt_method *m, const struct lm_frame *f);

#endif
