/* The thunk: stack arguments, varargs (al), errno, every enter action. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tests/common/call_at.h"
#include "tests/hook/helpers_cfix.h"
#include "tests/hook/helpers_probe.h"

/* 8 integer + 9 double arguments: two longs and one double on the stack */
#define MANY_STACK 24
#define MANY_ARGS  1, 2, 3, 4, 5, 6, 7, 8, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5

static struct lm_hook *must_hook(const char *name, void *fn, struct probe *p, uint64_t stack)
{
	char why[160] = "";
	struct lm_hook *h = probe_hook(name, fn, 0, LM_HM_DETOUR, p, stack, why, sizeof(why));

	cr_assert_not_null(h, "%s: %s", name, why);
	return h;
}

Test(thunk, stack_arguments_reach_the_original)
{
	struct probe p = {.action = LM_ENTER_CALL};
	double want = cfix_many(MANY_ARGS);

	must_hook("cfix_many", cfix_many, &p, MANY_STACK);
	cr_assert_eq(cfix_many(MANY_ARGS), want);
	cr_assert_eq(p.enters, 1);
	cr_assert_eq(p.last_xmm0, want);
	cr_assert_eq(p.stack0, 7, "stack_args points at the first stack argument");
}

Test(thunk, enter_return_gives_a_double)
{
	struct probe p = {.action = LM_ENTER_RETURN, .ret_xmm0 = -3.25};

	must_hook("cfix_many", cfix_many, &p, MANY_STACK);
	cr_assert_eq(cfix_many(MANY_ARGS), -3.25);
	cr_assert_eq(p.leaves, 0);
}

Test(thunk, enter_pass_keeps_stack_arguments)
{
	struct probe p = {.action = LM_ENTER_PASS};
	double want = cfix_many(MANY_ARGS);

	must_hook("cfix_many", cfix_many, &p, MANY_STACK);
	cr_assert_eq(cfix_many(MANY_ARGS), want);
	cr_assert_eq(p.enters, 1);
}

Test(thunk, varargs_keep_al_on_call)
{
	struct probe p = {.action = LM_ENTER_CALL};
	char buf[64];

	must_hook("cfix_format", cfix_format, &p, 0);
	cr_assert_eq(cfix_format(buf, sizeof(buf), "%d %.2f %s %.1f", 7, 2.5, "x", -1.5), 13);
	cr_assert_str_eq(buf, "7 2.50 x -1.5");
	cr_assert_eq(p.enters, 1);
	cr_assert_eq(p.last_rax, 13);
}

Test(thunk, varargs_keep_al_on_pass)
{
	struct probe p = {.action = LM_ENTER_PASS};
	char buf[64];

	must_hook("cfix_format", cfix_format, &p, 0);
	cr_assert_eq(cfix_format(buf, sizeof(buf), "%.3f|%ld", 0.125, 99L), 8);
	cr_assert_str_eq(buf, "0.125|99");
}

Test(thunk, unwinder_walks_through_the_thunk)
{
	struct probe p = {.action = LM_ENTER_CALL, .unwind = true};

	must_hook("fx_jcc8", fx_jcc8, &p, 0);
	cr_assert_eq(cfix_caller(4), 6);
	cr_assert_eq(p.enters, 1);
	cr_assert_eq(p.saw_caller, 2, "seen from enter and from leave");
}

/* Regression (issue 16): the thunk assumed its caller left rsp at 0 mod
 * 16 at the call; from a caller at 8 mod 16 its first movaps faulted.
 * Served, answered and unwound from there too. */
Test(thunk, a_caller_at_8_mod_16_is_served_and_unwound)
{
	struct probe p = {.action = LM_ENTER_CALL, .unwind = true, .caller = "tc_call"};

	must_hook("fx_jcc8", fx_jcc8, &p, 0);
	cr_assert_eq(tc_misaligned((void *)fx_jcc8, 4), 5);
	cr_assert_eq(p.saw_caller, 2, "seen from enter and from leave");
	p.action = LM_ENTER_RETURN;
	p.ret_rax = 77;
	cr_assert_eq(tc_misaligned((void *)fx_jcc8, 4), 77);
	p.action = LM_ENTER_PASS;
	cr_assert_eq(tc_misaligned((void *)fx_jcc8, 0), 42);
	cr_assert_eq(p.enters, 3);
}

Test(thunk, errno_set_by_the_original_survives)
{
	struct probe p = {.action = LM_ENTER_CALL};

	must_hook("cfix_fail", cfix_fail, &p, 0);
	errno = 0;
	cr_assert_eq(cfix_fail(ERANGE), -1);
	cr_assert_eq(errno, ERANGE);
	errno = 0;
	cr_assert_eq(cfix_fail(EDOM), -1);
	cr_assert_eq(errno, EDOM);
	cr_assert_eq(p.enters, 2);
}
