/* Whether this thread runs inside one of the program's signal handlers
 * (handler.c). The shim's wiring wraps the handlers the program installs
 * (shim/sigaction.c) so that a call from a handler is known: such a call
 * runs uncached, because a miss allocates and the handler may have
 * interrupted the program's own malloc, whose locks it holds. */
#ifndef LM_HANDLER_H
#define LM_HANDLER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* The innermost running handler's frame (0: none ran on this thread since
 * its last handler returned). A handler left by longjmp leaves it set: the
 * frame test below then sees that the stack is above it again. */
extern __thread uintptr_t lm_handler_frame;

bool lm_handler_frame_live(uintptr_t frame);

/* Called by the hooked-call paths that may allocate; one thread-local load
 * outside handlers. */
static inline bool lm_in_handler(void)
{
	uintptr_t frame = lm_handler_frame;
	return __builtin_expect(frame != 0, 0) && lm_handler_frame_live(frame);
}

typedef void (*lm_handler_fn)(int, siginfo_t *, void *);

/* Run the program's handler FN for SIG with this thread marked as inside
 * it; UC is the kernel's ucontext, which says whether the handler runs on
 * the alternate signal stack. Both handler forms are called with three
 * arguments: the ABI lets a one-argument handler ignore the others. */
void lm_handler_call(lm_handler_fn fn, int sig, siginfo_t *si, void *uc);

#endif
