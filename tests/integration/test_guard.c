/* The shim's guards against a signature that cannot be right: a `ptr`
 * result that is really a static buffer, in cache and in verify mode. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* The counter KEY of METHOD in a JSON dump on stderr, or -1. */
static long counter(const char *err, const char *method, const char *key)
{
	char want[128];
	snprintf(want, sizeof want, "{\"name\":\"%s\"", method);
	const char *m = strstr(err, want);
	if (!m)
		return -1;
	snprintf(want, sizeof want, "\"%s\":", key);
	const char *v = strstr(m, want);
	return v ? strtol(v + strlen(want), NULL, 10) : -1;
}

static void run_strings(const char *conf, struct it_run *bare, struct it_run *memo)
{
	const char *env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json", NULL};
	const char *argv[] = {it_path("prog-pie-O2"), "strings", NULL};
	*bare = it_run(NULL, argv, NULL);
	*memo = it_run(conf, argv, env);
	cr_assert_eq(memo->status, 0, "%s", memo->err);
}

/* fix_static_name returns its static buffer: declared `ptr`, a hit would
 * hand back the buffer after the next call wrote another name there. */
Test(guard, ptr_over_a_static_buffer_is_bypassed)
{
	const char conf[] = "[cache fix_user_name]\n"
	                    "signature = str fix_user_name(i64 id)\n"
	                    "[cache fix_static_name]\n"
	                    "signature = ptr fix_static_name(int id)\n";
	struct it_run bare, memo;
	run_strings(conf, &bare, &memo);
	char *a = it_strip_counts(bare.out), *b = it_strip_counts(memo.out);
	cr_assert_str_eq(b, a);
	cr_assert(strstr(memo.err, ":3: fix_static_name: fix_static_name returned the same "
	                           "address for two different keys"),
	          "%s", memo.err);
	cr_assert_gt(counter(memo.err, "fix_static_name", "bypassed"), 0, "%s", memo.err);
	cr_assert_eq(counter(memo.err, "fix_static_name", "hits"), 0, "%s", memo.err);
	cr_assert_gt(counter(memo.err, "fix_user_name", "hits"), 0, "%s", memo.err);
	free(a);
	free(b);
	it_free(&bare);
	it_free(&memo);
}

/* Verify mode compares what the caller would see: the address a hit would
 * return holds the last key's result, not this one's. */
Test(guard, verify_counts_ptr_repeats_as_mismatches)
{
	const char conf[] = "[cache fix_static_name]\n"
	                    "signature = ptr fix_static_name(int id)\n"
	                    "mode = verify\n";
	struct it_run bare, memo;
	run_strings(conf, &bare, &memo);
	cr_assert_str_eq(memo.out, bare.out);
	cr_assert_gt(counter(memo.err, "fix_static_name", "mismatches"), 0, "%s", memo.err);
	/* The function ran every time: nothing was saved. */
	cr_assert_eq(counter(memo.err, "fix_static_name", "saved_ns"), 0, "%s", memo.err);
	it_free(&bare);
	it_free(&memo);
}

/* fix_square takes a long: declared `str`, the key builder would read
 * addresses 1 to 9. The method must end bypassed with a message, not the
 * program in SIGSEGV. */
Test(guard, str_over_an_integer_is_bypassed_not_a_crash)
{
	const char conf[] = "[cache fix_square]\n"
	                    "signature = long fix_square(str x)\n";
	const char *env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json", NULL};
	const char *argv[] = {it_path("prog-pie-O2"), "basic", NULL};
	struct it_run bare = it_run(NULL, argv, NULL);
	struct it_run memo = it_run(conf, argv, env);
	cr_assert_eq(memo.status, 0, "%s", memo.err);
	cr_assert_str_eq(memo.out, bare.out);
	cr_assert(strstr(memo.err, ":2: fix_square: parameter 1 'x' is declared str, but the "
	                           "argument is an address in the first page"),
	          "%s", memo.err);
	/* x = 0 is NULL, a key of its own: one miss, and no hit ever. */
	cr_assert_eq(counter(memo.err, "fix_square", "bypassed"), 29, "%s", memo.err);
	cr_assert_eq(counter(memo.err, "fix_square", "hits"), 0, "%s", memo.err);
	it_free(&bare);
	it_free(&memo);
}

/* Wrapper noise: a process whose methods saw no call writes no text
 * table (a wrapper script's helpers each printed an empty one). */
Test(guard, no_text_table_without_calls)
{
	const char conf[] = "[cache fix_hypot]\nsignature = double fix_hypot(double a, double b)\n";
	const char *env[] = {"LDMEMO_STATS=stderr", NULL};
	const char *argv[] = {it_path("prog-pie-O2"), "basic", NULL};
	struct it_run r = it_run(conf, argv, env);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_null(strstr(r.err, "statistics for"), "%s", r.err);
	it_free(&r);
	const char *argv2[] = {it_path("prog-pie-O2"), "float", NULL};
	r = it_run(conf, argv2, env);
	cr_expect(strstr(r.err, "statistics for") != NULL, "%s", r.err);
	it_free(&r);
}

/* LDMEMO_STATS_SIGNAL without LDMEMO_STATS: the signal dumps to stderr
 * instead of killing the program with its default action. */
Test(guard, stats_signal_without_a_destination_dumps_to_stderr)
{
	const char conf[] = "[cache fix_hypot]\nsignature = double fix_hypot(double a, double b)\n";
	const char *env[] = {"LDMEMO_STATS_SIGNAL=USR1", NULL};
	const char *argv[] = {"/bin/sh", "-c", "kill -USR1 $$; echo alive", NULL};
	struct it_run r = it_run(conf, argv, env);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, "alive\n");
	cr_expect(strstr(r.err, "statistics for") != NULL, "%s", r.err);
	it_free(&r);
}

/* fix_strlen reads its string: declared `out(4)`, a hit would write four
 * bytes back into the literal "hello" in read-only memory. The first calls
 * check that an out argument is writable; the method ends bypassed with a
 * message, not the program in SIGSEGV. */
Test(guard, out_over_read_only_memory_is_bypassed_not_a_crash)
{
	const char conf[] = "[cache fix_strlen]\n"
	                    "signature = long fix_strlen(out(4) s)\n";
	const char *env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json", NULL};
	const char *argv[] = {it_path("prog-pie-O2"), "strlen", NULL};
	struct it_run bare = it_run(NULL, argv, NULL);
	struct it_run memo = it_run(conf, argv, env);
	cr_assert_eq(memo.status, 0, "%s", memo.err);
	cr_assert_str_eq(memo.out, bare.out);
	cr_assert(strstr(memo.err, ":2: fix_strlen: parameter 1 's' is declared out, but the "
	                           "argument is memory that cannot be written"),
	          "%s", memo.err);
	cr_assert_eq(counter(memo.err, "fix_strlen", "hits"), 0, "%s", memo.err);
	it_free(&bare);
	it_free(&memo);
}
