/* LM_ASSERT: on in debug builds (the sanitizer runs build with LM_DEBUG),
 * gone from release builds, where its expression is not evaluated. */
#include <criterion/criterion.h>
#include <signal.h>

#include "shim/base/assert.h"

static int evaluated;

static int touch(void)
{
	return ++evaluated;
}

#ifdef LM_DEBUG
Test(assert, a_broken_invariant_aborts_in_a_debug_build, .signal = SIGABRT)
{
	LM_ASSERT(touch() == 1);
	LM_ASSERT(touch() == 1);
}
#else
Test(assert, a_release_build_does_not_evaluate_the_check)
{
	LM_ASSERT(touch() == 1);
	cr_assert_eq(evaluated, 0);
}
#endif
