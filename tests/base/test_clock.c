/* The coarse clock (shim/base/clock.c): read from the kernel's words once
 * they are found, and the same time as the vDSO gives. */
#include <criterion/criterion.h>
#include <time.h>

#include "shim/base/clock.h"

static int64_t vdso_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(clock, the_coarse_words_tell_the_vdso_time)
{
	const volatile int64_t *w = lm_clock_coarse_words();
	if (!w)
		cr_skip_test("no clock words here (valgrind, a time namespace?)");
	for (int i = 0; i < 20; i++) {
		int64_t a = vdso_ms(), t = lm_clock_ms(), b = vdso_ms();
		cr_assert(a <= t && t <= b, "%ld not within [%ld, %ld]", (long)t, (long)a, (long)b);
		struct timespec pause = {.tv_nsec = 1000000};
		nanosleep(&pause, NULL);
	}
	cr_expect(lm_clock_coarse_check());
}

/* The test program resolves libc's clock_gettime: it is recognised as
 * libc's (through the object that holds it), which lets hits read the
 * kernel's clock words; the fakeclock integration test checks the other
 * way. */
Test(clock, libcs_clock_is_recognised)
{
	cr_expect(lm_clock_is_libc());
}
