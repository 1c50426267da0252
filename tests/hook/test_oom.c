/* Out-of-memory paths of hook preparation: nothing is taken that is not
 * given back. The test binary is linked with --wrap for strdup and
 * lm_nearmem_alloc (module.mk), so these wrappers see the hook code's
 * calls. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "shim/hook/hook.h"

char *__real_strdup(const char *s);
void *__real_lm_nearmem_alloc(uintptr_t near, size_t size);

static int fail_strdup;
static int near_allocs;

char *__wrap_strdup(const char *s)
{
	if (fail_strdup) {
		fail_strdup--;
		return NULL;
	}
	return __real_strdup(s);
}

void *__wrap_lm_nearmem_alloc(uintptr_t near, size_t size)
{
	near_allocs++;
	return __real_lm_nearmem_alloc(near, size);
}

static long target(long x)
{
	return x + 1;
}

static int no_enter(struct lm_hook *h, struct lm_frame *f)
{
	(void)h;
	(void)f;
	return LM_ENTER_PASS;
}

static void no_leave(struct lm_hook *h, struct lm_frame *f)
{
	(void)h;
	(void)f;
}

/* Regression: a GOT hook whose name could not be copied took a stub of
 * near memory first, and near memory is never given back. */
Test(oom, a_got_hook_whose_name_cannot_be_copied_takes_no_stub)
{
	struct lm_hook_req req = {
	    .name = "target",
	    .addr = (uintptr_t)target,
	    .mode = LM_HM_GOT,
	    .enter = no_enter,
	    .leave = no_leave,
	};
	char why[128] = "";
	fail_strdup = 1;
	near_allocs = 0;
	cr_assert_null(lm_hook_prepare(&req, why, sizeof why));
	cr_expect(strstr(why, "out of memory") != NULL, "%s", why);
	cr_expect_eq(near_allocs, 0, "a stub was taken for a hook that failed");
}
