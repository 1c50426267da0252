/* The program's signal handlers, marked (handler.h). Everything here runs
 * in signal context: thread-local stores, no calls but the handler's. */
#include "handler.h"

#include <ucontext.h>

__thread uintptr_t lm_handler_frame;
/* The alternate stack the innermost handler runs on ([lo, hi); 0, 0 when
 * it runs on the interrupted code's stack). */
static __thread uintptr_t t_alt_lo, t_alt_hi;

/* A handler frame is live while the stack is below it, and, for a handler
 * on the alternate stack, while the stack is on that stack: a longjmp out
 * of the handler moves the stack above the frame or off the alternate
 * stack, whichever way the two stacks lie in memory. */
bool lm_handler_frame_live(uintptr_t frame)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	if (t_alt_hi != 0 && (sp < t_alt_lo || sp >= t_alt_hi))
		return false;
	return sp < frame;
}

void lm_handler_call(lm_handler_fn fn, int sig, siginfo_t *si, void *uc)
{
	uintptr_t outer_frame = lm_handler_frame, outer_lo = t_alt_lo, outer_hi = t_alt_hi;
	uintptr_t frame = (uintptr_t)__builtin_frame_address(0);
	uintptr_t lo = 0, hi = 0;
	const stack_t *alt = uc ? &((const ucontext_t *)uc)->uc_stack : NULL;
	if (alt && !(alt->ss_flags & SS_DISABLE) && alt->ss_size != 0) {
		uintptr_t base = (uintptr_t)alt->ss_sp;
		if (frame >= base && frame < base + alt->ss_size) {
			lo = base;
			hi = base + alt->ss_size;
		}
	}
	t_alt_lo = lo;
	t_alt_hi = hi;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	lm_handler_frame = frame;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	fn(sig, si, uc);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	lm_handler_frame = outer_frame;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	t_alt_lo = outer_lo;
	t_alt_hi = outer_hi;
}
