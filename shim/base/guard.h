/* One way in and out of ldmemo's own code on a thread: the re-entrancy
 * guard and the errno keeper. */
#ifndef LM_GUARD_H
#define LM_GUARD_H

#include <errno.h>
#include <stdbool.h>

#include "assert.h"

/* Nonzero while ldmemo's own code runs on this thread, so that a hooked
 * function it reaches (its allocations, a signal handler interrupting it)
 * runs uncached (guarantee 6). thunk_fast.S reads it by this name. */
extern __thread int lm_in_shim;

/* Enter and leave ldmemo's code; pairs nest. The signal fences keep the
 * compiler from moving shim work outside the marked span, where a signal
 * handler on this thread would not see it. */
static inline void lm_guard_enter(void)
{
	lm_in_shim++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}
static inline void lm_guard_leave(void)
{
	LM_ASSERT(lm_in_shim > 0);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	lm_in_shim--;
}
static inline bool lm_guard_held(void)
{
	return lm_in_shim != 0;
}
/* A thread that is ldmemo's own (the shared tier's, the control
 * socket's): inside for its whole life. */
static inline void lm_guard_own_thread(void)
{
	lm_in_shim = 1;
}

static inline void lm_errno_restore(const int *saved)
{
	errno = *saved;
}
/* Keep the caller's errno across the rest of the enclosing block: ldmemo
 * runs inside the host's calls, whose errno it must not change. */
#define LM_KEEP_ERRNO() int lm_kept_errno __attribute__((cleanup(lm_errno_restore), unused)) = errno

#endif
