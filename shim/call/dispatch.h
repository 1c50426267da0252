/* The thunk callbacks (dispatch.c): what every hooked call enters. */
#ifndef LM_DISPATCH_H
#define LM_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "shim/arch/x86_64/frame.h"

int lm_dispatch_enter(struct lm_hook *h, struct lm_frame *f);
/* The hooks' re-sampling tick (lm_hook_set_tick): the adaptive bypass's,
 * where the dispatcher itself would run (not re-entered, not in a
 * handler). */
void lm_dispatch_tick(void);
/* This thread's calls of originals in flight (dispatch.c): nonzero when a
 * call a longjmp left may wait to be released by the next enter. */
extern __thread size_t lm_dispatch_top;
/* lm_thunk's first call, before it saves the vector registers (quick.c):
 * LM_ENTER_RETURN when F now holds a static result's hit (only ret_rax
 * written, errno set), else LM_ENTER_CALL: the thunk goes on to enter. */
int lm_dispatch_quick(struct lm_hook *h, struct lm_frame *f);
/* The same for a front-cache hit of a method lm_plan_quick_front accepts
 * (ret_rax and the out buffers written, errno set). */
int lm_dispatch_quick_front(struct lm_hook *h, struct lm_frame *f);
/* lm_thunk_static's first step (quick.c), before any register is
 * saved: the static buffer (or NULL) of a hit of method H->ctx whose key
 * is the first argument word A0, errno set; LM_QUICK_PASS for anything
 * else, which the thunk sends on to lm_thunk. Saves every register it
 * uses but rax. */
#define LM_QUICK_PASS ((void *)1)
__attribute__((no_caller_saved_registers)) void *lm_quick_entry(uint64_t a0,
                                                                const struct lm_hook_head *h);
/* This thread's hits answered so (tests see the path taken). */
extern __thread uint64_t lm_quick_front_hits;
void lm_dispatch_leave(struct lm_hook *h, struct lm_frame *f);
/* Write functions: call, then drop what the config says they change. */
int lm_dispatch_enter_write(struct lm_hook *h, struct lm_frame *f);
void lm_dispatch_leave_write(struct lm_hook *h, struct lm_frame *f);
/* The original was left by an unwinder (lm_hook_head.unwound). */
void lm_dispatch_unwound(struct lm_hook *h, struct lm_frame *f);
void lm_dispatch_unwound_write(struct lm_hook *h, struct lm_frame *f);

#endif
