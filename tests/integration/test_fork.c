/* fork() while a signal handler calls a hooked function (issue 16,
 * guarantee 10): the store's fork handlers lock every shard; a handler
 * that interrupts them must run its call uncached, not wait for a lock
 * its own thread holds. */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"

Test(fork, a_signal_handler_calling_a_hooked_function_during_fork_does_not_hang)
{
	const char *argv[] = {it_path("forksig"), "800", NULL};
	const char *env[] = {"LDMEMO_LOG=warn", NULL};
	struct it_run r =
	    it_run("[cache sq]\nsignature = long sq(long x)\nttl = 50ms\n", argv, env);
	cr_expect_eq(r.status, 0, "status %d (3: hung)\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "ok forks=800") != NULL, "%s%s", r.out, r.err);
	it_free(&r);
}
