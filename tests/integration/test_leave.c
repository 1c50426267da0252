/* Hooked calls left without returning (issue 16, guarantee 10): by a C++
 * exception, by longjmp, by thread cancellation. Each must release the
 * key's pending marker, or every later call of the key from another thread
 * waits out the 5 s coalescing timeout: the fixtures' watchdogs (30 s)
 * turn that into exit status 3. Unwound calls count as misses. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* Counter KEY of METHOD in a JSON stats dump. */
static long counter(const char *err, const char *method, const char *key)
{
	char want[128];
	snprintf(want, sizeof want, "\"name\":\"%s\"", method);
	const char *m = strstr(err, want);
	if (!m)
		return -1;
	snprintf(want, sizeof want, "\"%s\":", key);
	const char *v = strstr(m, want);
	return v ? strtol(v + strlen(want), NULL, 10) : -1;
}

static const char *const stats_env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json", NULL};

Test(leave, an_exception_through_a_hooked_call_releases_its_marker)
{
	const char *argv[] = {it_path("unwind"), NULL};
	struct it_run r =
	    it_run("[cache risky]\nsignature = long risky(long k)\n", argv, stats_env);
	cr_expect_eq(r.status, 0, "status %d (3: hung)\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "ok caught=800") != NULL, "%s%s", r.out, r.err);
	/* Every throwing call ran the function: 800 of them, counted. */
	cr_expect_geq(counter(r.err, "risky", "misses"), 800, "%s", r.err);
	cr_expect_geq(counter(r.err, "risky", "calls"), 1600, "%s", r.err);
	it_free(&r);
}

Test(leave, a_longjmp_out_of_a_hooked_call_releases_its_marker)
{
	const char *argv[] = {it_path("leave"), "longjmp", NULL};
	struct it_run r = it_run("[cache lj]\nsignature = long lj(long k)\n"
	                         "[cache other]\nsignature = long other(long k)\n",
	                         argv, stats_env);
	cr_expect_eq(r.status, 0, "status %d (3: hung)\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "ok longjmp") != NULL, "%s%s", r.out, r.err);
	it_free(&r);
}

Test(leave, a_cancelled_hooked_call_releases_its_marker)
{
	const char *argv[] = {it_path("leave"), "cancel", NULL};
	struct it_run r =
	    it_run("[cache stuck]\nsignature = long stuck(long k)\n", argv, stats_env);
	cr_expect_eq(r.status, 0, "status %d (3: hung)\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "ok cancel") != NULL, "%s%s", r.out, r.err);
	cr_expect_geq(counter(r.err, "stuck", "misses"), 20, "%s", r.err);
	it_free(&r);
}
