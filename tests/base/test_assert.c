/* LM_ASSERT: on in debug builds (the sanitizer runs build with LM_DEBUG),
 * gone from release builds, where its expression is not evaluated. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shim/base/assert.h"

static int evaluated;

static int touch(void)
{
	return ++evaluated;
}

#ifdef LM_DEBUG
/* What went to stderr, and the exit the abort handler chose. */
static FILE *err_copy;
enum { ABORTED_AS_EXPECTED = 42 };

/* Only the second check may abort, and its report must name it: a test
 * expecting a bare SIGABRT would pass for an abort on a check that holds
 * (or for any other abort). */
static void on_abort(int sig)
{
	char buf[512];
	ssize_t n;

	(void)sig;
	n = pread(fileno(err_copy), buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	_exit(evaluated == 2 && strstr(buf, "invariant broken: touch() == 1") &&
	              strstr(buf, "test_assert.c")
	          ? ABORTED_AS_EXPECTED
	          : 1);
}

Test(assert, a_broken_invariant_aborts_in_a_debug_build, .exit_code = ABORTED_AS_EXPECTED)
{
	err_copy = tmpfile();
	cr_assert_not_null(err_copy);
	cr_assert_geq(dup2(fileno(err_copy), 2), 0);
	cr_assert_neq(signal(SIGABRT, on_abort), SIG_ERR);
	LM_ASSERT(touch() == 1);
	LM_ASSERT(touch() == 1);
	_exit(2); /* the broken invariant did not abort */
}
#else
Test(assert, a_release_build_does_not_evaluate_the_check)
{
	LM_ASSERT(touch() == 1);
	cr_assert_eq(evaluated, 0);
}
#endif
