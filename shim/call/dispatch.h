/* The thunk callbacks (dispatch.c): what every hooked call enters. */
#ifndef LM_DISPATCH_H
#define LM_DISPATCH_H

#include <stddef.h>

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
