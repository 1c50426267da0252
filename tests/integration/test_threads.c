/* Short-lived threads (issue 16): each thread's blocks (front cache, fast
 * table, reuse table, the dispatcher's buffers) go back to a pool that the
 * next thread takes from. Freed to malloc instead, every thread left about
 * 16 KiB of fragmented arena behind: +56 MB of RSS over 4,000 threads. A
 * memory bound, not a timing one. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static const char conf[] = "[global]\nadaptive = false\n"
                           "[cache work]\nsignature = long work(long k)\n"
                           "[cache scale]\nsignature = double scale(double x)\n";

Test(threads, four_thousand_short_threads_leave_the_rss_flat)
{
#ifdef __SANITIZE_ADDRESS__
	cr_skip_test("ASan's allocator keeps freed memory in quarantine: the RSS is its own");
#endif
	const char *argv[] = {it_path("threads"), "threads", "4000", NULL};
	struct it_run r = it_run(conf, argv, NULL);
	cr_assert_eq(r.status, 0, "status %d\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "ok") != NULL, "%s%s", r.out, r.err);
	long at500 = it_field(r.out, "rss500"), at4000 = it_field(r.out, "rss4000");
	cr_assert(at500 > 0 && at4000 > 0, "%s", r.out);
	/* KiB: 3,500 more threads may cost the store's entries of their keys
	 * (a few hundred KiB), not a block each. */
	cr_expect_lt(at4000 - at500, 4096, "rss grew %ld KiB after thread 500\n%s", at4000 - at500,
	             r.out);
	it_free(&r);
}

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

/* A thread that longjmps out of a hooked call and ends before another
 * hooked call: its end releases the call's pending marker (with its
 * buffers back to the pool), and counts the call. */
Test(threads, a_thread_ending_after_a_longjmp_out_of_a_hooked_call_releases_its_marker)
{
	const char *argv[] = {it_path("threads"), "longjmp", NULL};
	const char *const env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json", NULL};
	struct it_run r = it_run("[cache lj]\nsignature = long lj(long k)\n", argv, env);
	cr_expect_eq(r.status, 0, "status %d (3: hung)\n%s%s", r.status, r.out, r.err);
	cr_expect(strstr(r.out, "ok longjmp") != NULL, "%s%s", r.out, r.err);
	cr_expect_eq(counter(r.err, "lj", "misses"), 20, "%s", r.err);
	it_free(&r);
}
