/* How much stack a call has left, for the miss paths that need much of it
 * (frame.h says how deep the shim goes). */
#ifndef LM_STACK_H
#define LM_STACK_H

#include <stdbool.h>
#include <stddef.h>

/* True when this call runs on the thread's alternate signal stack with
 * fewer than NEED bytes of it left. One system call: only for paths that
 * cost more than that anyway (a round trip to the shared tier). A stack
 * the kernel does not know of (a coroutine's) is not seen. */
bool lm_stack_short(size_t need);

#endif
