/* Guarantee 4: a call that starts after a write function returned never
 * gets a result computed before that write function was called, also when
 * readers and the writer run in different threads at once. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static void race(const char *conf)
{
	const char *argv[] = {it_path("race"), "20000", NULL};
	const char *env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json", NULL};
	struct it_run r = it_run(conf, argv, env);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "violations"), 0, "%s", r.out);
	cr_expect_gt(it_field(r.out, "reads"), 10000, "%s", r.out);
	/* The cache really answered: otherwise there was nothing to race. */
	const char *hits = strstr(r.err, "\"hits\":");
	cr_assert(hits != NULL, "%s", r.err);
	cr_expect_gt(strtol(hits + 7, NULL, 10), 1000, "%s", r.err);
	it_free(&r);
}

Test(race, readers_never_see_a_version_older_than_the_last_write)
{
	race("[cache db_read]\nsignature = long db_read(long key)\nttl = never\n"
	     "[invalidate db_write]\nsignature = int db_write(long key)\n"
	     "drop = db_read(key)\n");
}

Test(race, also_with_coalescing_off_and_a_method_wide_drop)
{
	race("[global]\ncoalesce = off\n"
	     "[cache db_read]\nsignature = long db_read(long key)\nttl = never\n"
	     "[invalidate db_write]\nsignature = int db_write(long key)\n"
	     "drop = db_read\n");
}

/* With an expiry the fast thunk's hits also read the clock. */
Test(race, also_with_an_expiry)
{
	race("[cache db_read]\nsignature = long db_read(long key)\nttl = 1h\n"
	     "[invalidate db_write]\nsignature = int db_write(long key)\n"
	     "drop = db_read(key)\n");
}

/* Regression: the hook clobbered rdi (and r11, xmm8+), which a caller
 * compiled with -fipa-ra kept live across a call to a leaf function; the
 * read after the write then asked for the wrong key. find's hits take
 * lm_thunk's quick path, which must leave the vector registers alone. */
Test(race, registers_kept_across_calls_by_ipa_ra_callers)
{
	const char *argv[] = {it_path("ipara"), NULL};
	struct it_run bare = it_run(NULL, argv, NULL);
	struct it_run memo = it_run("[cache db_read]\nsignature = long db_read(long key)\n"
	                            "[invalidate db_write]\nsignature = int db_write(long key)\n"
	                            "drop = db_read(key)\n"
	                            "[cache half]\nsignature = double half(double x)\n"
	                            "[type rec]\nfields = i64 id, str name\n"
	                            "[cache find]\nsignature = static rec* find(str name)\n",
	                            argv, NULL);
	cr_assert_eq(memo.status, 0, "%s", memo.err);
	cr_expect_str_eq(memo.out, bare.out);
	it_free(&bare);
	it_free(&memo);
}
