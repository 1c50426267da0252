/* Symbols whose address is not simply their value: a versioned symbol
 * resolves to its default version as the dynamic linker binds it, and an
 * IFUNC is hooked at the implementation its resolver picked. */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"

static struct it_run run(const char *conf)
{
	const char *argv[] = {it_path("prog-ver"), NULL};
	const char *env[] = {"LDMEMO_LOG=info", NULL};
	return it_run(conf, argv, env);
}

Test(symbols, default_version_and_ifunc_detoured)
{
	struct it_run r = run("[cache vsq]\nsignature = long vsq(long x)\n"
	                      "[cache ifn]\nsignature = long ifn(long x)\n");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, "s=1620 runs=10\n");
	cr_expect(strstr(r.err, "vsq: detour at") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "ifn: detour at") != NULL, "%s", r.err);
	it_free(&r);
}

Test(symbols, other_version_is_another_function)
{
	/* The program binds vsq@@V2; hooking vsq@V1 leaves its calls alone. */
	struct it_run r = run("[cache vsq@V1]\nsignature = long vsq(long x)\n");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, "s=1620 runs=30\n");
	cr_expect(strstr(r.err, "vsq: detour at") != NULL, "%s", r.err);
	it_free(&r);
}

Test(symbols, unknown_version_is_reported)
{
	struct it_run r = run("[cache vsq@V9]\nsignature = long vsq(long x)\n");
	cr_assert_eq(r.status, 0);
	cr_expect(strstr(r.err,
	                 "vsq: not hooked: the function exists, but not with that version") != NULL,
	          "%s", r.err);
	it_free(&r);
}

/* The shim interposes dlopen; a bare name must still be found through the
 * calling program's DT_RUNPATH, not the shim's (which has none). */
Test(symbols, dlopen_bare_name_through_callers_runpath)
{
	const char conf[] = "[cache dyn_cube]\nsignature = long dyn_cube(long x)\n"
	                    "object = libplug.so\n";
	const char *argv[] = {it_path("prog-runpath"), "dlopen", "libplug.so", NULL};
	struct it_run bare = it_run(NULL, argv, NULL);
	cr_assert_eq(bare.status, 0, "%s", bare.out);
	struct it_run memo = it_run(conf, argv, NULL);
	cr_assert_eq(memo.status, 0, "%s%s", memo.out, memo.err);
	cr_expect_eq(it_field(memo.out, "runs"), 2, "%s", memo.out);
	it_free(&bare);
	it_free(&memo);
}
