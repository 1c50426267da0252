/* The failure report of LM_ASSERT (assert.h), in debug builds only. */
#include "assert.h"

#ifdef LM_DEBUG
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void lm_assert_fail(const char *what, const char *file, int line, const char *func)
{
	char msg[512];
	int n = snprintf(msg, sizeof msg, "ldmemo[%d]: %s:%d: %s: invariant broken: %s\n",
	                 (int)getpid(), file, line, func, what);
	if (n > 0)
		(void)!write(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
	abort();
}
#endif
