#include "stack.h"
#include "shim/base/guard.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>

bool lm_stack_short(size_t need)
{
	LM_KEEP_ERRNO();
	stack_t ss;
	bool on = sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK);
	if (!on)
		return false;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0), lo = (uintptr_t)ss.ss_sp;
	return sp < lo || sp - lo < need;
}
