/* The memoization matrix: each scenario of the fixture program runs with
 * and without the shim, in every build variant; the output must be the
 * same, and the printed run counts show that each distinct key ran once. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static const char *const variants[] = {"prog-pie-O2", "prog-nopie-O2", "prog-pie-O0-now",
                                       "prog-nopie-O0-noplt"};
#define NVARIANTS 4

/* These count real runs of functions far cheaper than a lookup: the
 * adaptive bypass would rightly stop caching them. */
static const char conf[] =
    "[global]\n"
    "ttl = 1h\n"
    "adaptive = off\n"
    "[type fix_rec]\n"
    "fields = str name, str dir, u32 id, strv tags, fix_rec2* boss\n"
    "[type fix_rec2]\n"
    "fields = str name, str dir, u32 id, strv tags, ptr boss\n"
    "[cache fix_square]\n"
    "signature = long fix_square(long x)\n"
    "[cache fix_narrow]\n"
    "signature = int fix_narrow(int x)\n"
    "[cache fix_hypot]\n"
    "signature = double fix_hypot(double a, double b)\n"
    "[cache fix_get_user]\n"
    "signature = int fix_get_user(i64 id, out(64) user)\n"
    "when = ret == 0\n"
    "negative_ttl = 1h\n"
    "[cache fix_user_name]\n"
    "signature = str fix_user_name(i64 id)\n"
    "[cache fix_static_name]\n"
    "signature = static str fix_static_name(int id)\n"
    "[invalidate fix_update_user]\n"
    "signature = int fix_update_user(i64 id, str name)\n"
    "when = ret == 0\n"
    "drop = fix_get_user(id), fix_user_name(id)\n"
    "[cache fix_many]\n"
    "signature = long fix_many(long a, long b, long c, long d, long e, long f, "
    "long g, long h, double x, double y)\n"
    "[cache fix_fail]\n"
    "signature = int fix_fail(int x)\n"
    "when = ret >= 0\n"
    "negative_ttl = 1h\n"
    "[cache fix_lookup]\n"
    "signature = static fix_rec* fix_lookup(u32 id)\n"
    "[cache fix_lookup_name]\n"
    "signature = static fix_rec* fix_lookup_name(str name)\n"
    "when = ret != NULL\n"
    "negative_ttl = 1h\n"
    "[cache fix_strlen]\n"
    "signature = long fix_strlen(str s)\n"
    "[cache fix_recip]\n"
    "signature = double fix_recip(double x)\n"
    "[cache fix_errno]\n"
    "signature = int fix_errno(int e)\n"
    "when = ret >= 0\n"
    "negative_ttl = 1h\n"
    "[cache fix_strhash]\n"
    "signature = long fix_strhash(str s)\n"
    "[cache fib]\n"
    "signature = long fib(int n)\n"
    "[type tm]\n"
    "fields = i32 tm_sec, i32 tm_min, i32 tm_hour, i32 tm_mday, i32 tm_mon, i32 tm_year, "
    "i32 tm_wday, i32 tm_yday, i32 tm_isdst, i64 tm_gmtoff, str tm_zone\n"
    "[cache localtime]\n"
    "signature = static tm* localtime(buf(8) timep)\n"
    "when = ret != NULL\n"
    "negative_ttl = 1h\n"
    "object = libc.so.6\n"
    "[cache dyn_cube]\n"
    "signature = long dyn_cube(long x)\n"
    "object = libdyn.so\n";

/* Runs SCENARIO of VARIANT bare and under the shim; asserts identical
 * output modulo the run counters and returns the shim's "runs=". */
static long compare(const char *variant, const char *scenario)
{
	const char *argv[] = {it_path(variant), scenario, NULL};
	struct it_run bare = it_run(NULL, argv, NULL);
	struct it_run memo = it_run(conf, argv, NULL);
	cr_assert_eq(bare.status, 0, "%s %s bare: %s", variant, scenario, bare.err);
	cr_assert_eq(memo.status, 0, "%s %s memo: %s", variant, scenario, memo.err);
	cr_assert_str_empty(memo.err, "%s %s: the shim printed: %s", variant, scenario, memo.err);
	char *a = it_strip_counts(bare.out), *b = it_strip_counts(memo.out);
	cr_assert_str_eq(b, a, "%s %s: output differs", variant, scenario);
	long runs = it_field(memo.out, "runs");
	free(a);
	free(b);
	it_free(&bare);
	it_free(&memo);
	return runs;
}

#define MATRIX(name, scenario, expected)                                            \
	Test(memo, name)                                                            \
	{                                                                           \
		for (int v = 0; v < NVARIANTS; v++)                                 \
			cr_expect_eq(compare(variants[v], scenario), expected,      \
			             "%s: wrong number of real runs", variants[v]); \
	}

/* 10 distinct keys, each called three times. */
MATRIX(plt_call_runs_once_per_key, "basic", 10)
/* The upper half of an int's register is garbage: one key, not three. */
MATRIX(int_key_ignores_upper_register_bits, "narrow", 1)
/* Three pairs of doubles, each four times (0.0 against -0.0: fastkeys). */
MATRIX(double_args_and_result, "float", 3)
/* A cached -1/ENOENT looks exactly like the real one. */
MATRIX(errno_and_out_buffer_replayed, "errno", 2)
/* str results are fresh copies the caller frees; static str stable. */
MATRIX(str_and_static_str_results, "strings", 5)
/* After update_user, both get_user(1) and user_name(1) run again. */
MATRIX(write_function_drops_keys, "invalidate", 4)
/* Ten arguments: two longs go on the stack. */
MATRIX(stack_passed_arguments, "many", 4)
/* A call through a function pointer is caught by the detour. */
MATRIX(call_through_function_pointer, "pointer", 1)
/* EAGAIN is transient: never cached; ENOENT is cached as a negative. */
MATRIX(transient_errno_never_cached, "negative", 5)
/* EAGAIN, EINTR, ENOMEM, ETIMEDOUT and EIO: 3 runs each; ENOENT, EACCES:
 * one each. */
MATRIX(every_transient_errno_runs_every_time, "transient", 17)
/* A write that fails its `when` drops nothing: both reads hit after it. */
MATRIX(failed_write_drops_nothing, "failed_write", 2)
/* 0.0/-0.0 (2), 400 pairs, 300 narrow ints, 600 longs, 6 long strings:
 * each distinct key runs once and gets its own answer. */
MATRIX(fast_keys_each_get_their_own_answer, "fastkeys", 1308)
/* 10,000 keys of two fast methods, four rounds: the thread's fast table
 * grows amid them, and each key still runs once, with its own answer. */
MATRIX(a_working_set_that_grows_the_fast_table_keeps_every_answer, "growkeys", 20000)
/* static TYPE* deep copy with strings, a string vector and a pointer. */
MATRIX(static_struct_deep_copy, "struct", 2)
/* A static result's buffer reused by the next hit on its key, rebuilt
 * after the caller wrote into it or another key's result was put there;
 * NULL answers for a u32 and a str key; str keys that are prefixes of
 * each other. */
MATRIX(static_buffer_reused_until_written, "reuse", 8)
/* A static result's hits end with a drop of the method or of everything:
 * 4 calls, a drop, 3 calls, a drop of all, 2 calls. */
MATRIX(static_buffer_hits_end_with_a_drop, "reuse_drop", 3)
/* NULL and "" and content are distinct str keys. */
MATRIX(str_keys_by_content, "strlen", 4)

Test(memo, recursive_static_function_hits_inner_calls)
{
	for (int v = 0; v < NVARIANTS; v++) {
		const char *argv[] = {it_path(variants[v]), "fib", NULL};
		struct it_run r = it_run(conf, argv, NULL);
		cr_assert_eq(r.status, 0, "%s: %s", variants[v], r.err);
		cr_expect(strstr(r.out, "fib(90)=2880067194370816120") != NULL, "%s: %s",
		          variants[v], r.out);
		/* At -O0 every call enters through the hook: one run per n. At
		 * -O2 gcc inlines some recursion levels into the body, and
		 * those inner calls cannot be seen, but the count stays
		 * polynomial where the bare program's is 2^63. */
		long calls = it_field(r.out, "calls");
		if (strstr(variants[v], "O0"))
			cr_expect_eq(calls, 91, "%s: %s", variants[v], r.out);
		else
			cr_expect(calls > 0 && calls < 100000, "%s: %s", variants[v], r.out);
		it_free(&r);
	}
}

Test(memo, threads_get_true_values)
{
	for (int v = 0; v < NVARIANTS; v++) {
		const char *argv[] = {it_path(variants[v]), "threads", NULL};
		struct it_run r = it_run(conf, argv, NULL);
		cr_assert_eq(r.status, 0, "%s: %s", variants[v], r.err);
		cr_expect_str_eq(r.out, "bad=0\n", "%s", variants[v]);
		it_free(&r);
	}
}

/* libc's localtime as `static tm* localtime(buf(8) timep)`: 1,500 distinct
 * times each checked against localtime_r, one buffer for consecutive
 * hits as libc has, a caller's writes into it, another key in between.
 * Output identical, and the program finds no wrong answer. */
Test(memo, localtime_static_struct_reused_and_rebuilt)
{
	for (int v = 0; v < NVARIANTS; v++) {
		compare(variants[v], "localtime");
		const char *argv[] = {it_path(variants[v]), "localtime", NULL};
		struct it_run r = it_run(conf, argv, NULL);
		cr_expect(strstr(r.out, "same buffer=1\nk after writes") != NULL, "%s", r.out);
		cr_expect(strstr(r.out, "bad=0\n") != NULL, "%s: %s", variants[v], r.out);
		it_free(&r);
	}
}

/* The hits of a method's (the key in JSON statistics on stderr), or -1. */
static long json_hits(const char *err, const char *method)
{
	char pat[128];
	snprintf(pat, sizeof pat, "\"name\":\"%s\"", method);
	const char *m = strstr(err, pat), *h = m ? strstr(m, "\"hits\":") : NULL;
	return h ? strtol(h + 7, NULL, 10) : -1;
}

/* Four threads hit localtime on keys of their own and a shared one; each
 * answer is checked at once against localtime_r. */
Test(memo, localtime_threads_each_get_their_own_answer)
{
	const char *env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json", NULL};
	for (int v = 0; v < NVARIANTS; v++) {
		const char *argv[] = {it_path(variants[v]), "localtime_threads", NULL};
		struct it_run r = it_run(conf, argv, env);
		cr_assert_eq(r.status, 0, "%s: %s", variants[v], r.err);
		cr_expect_str_eq(r.out, "bad=0\n", "%s", variants[v]);
		cr_expect_gt(json_hits(r.err, "localtime"), 150000, "%s: %s", variants[v], r.err);
		it_free(&r);
	}
}

Test(memo, library_loaded_later_with_rtld_local)
{
	for (int v = 0; v < NVARIANTS; v++) {
		const char *argv[] = {it_path(variants[v]), "dlopen", it_path("libdyn.so"), NULL};
		struct it_run bare = it_run(NULL, argv, NULL);
		struct it_run memo = it_run(conf, argv, NULL);
		cr_assert_eq(memo.status, 0, "%s: %s", variants[v], memo.err);
		cr_expect_eq(it_field(bare.out, "runs"), 8);
		cr_expect_eq(it_field(memo.out, "runs"), 2, "%s: %s", variants[v], memo.out);
		cr_expect_eq(it_field(memo.out, "s"), it_field(bare.out, "s"));
		it_free(&bare);
		it_free(&memo);
	}
}

/* max_entries = 0 has one meaning (issue 16): nothing is stored, in a
 * method's section as in [global]. It used to mean "no bound" in a
 * method. */
Test(memo, max_entries_0_stores_nothing_in_global_and_in_a_method)
{
	const char *argv[] = {it_path("prog-pie-O2"), "basic", NULL};
	struct it_run r = it_run("[cache fix_square]\nsignature = long fix_square(long x)\n"
	                         "max_entries = 0\n",
	                         argv, NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "runs"), 30, "method: %s%s", r.out, r.err);
	it_free(&r);
	r = it_run(
	    "[global]\nmax_entries = 0\n[cache fix_square]\nsignature = long fix_square(long "
	    "x)\n",
	    argv, NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "runs"), 30, "global: %s%s", r.out, r.err);
	it_free(&r);
	r = it_run("[cache fix_square]\nsignature = long fix_square(long x)\nmax_entries = 1000\n",
	           argv, NULL);
	cr_expect_eq(it_field(r.out, "runs"), 10, "bounded: %s%s", r.out, r.err);
	it_free(&r);
}
