/* Processes under the shim sharing the host tier: one served by another's
 * results, writes reaching the next call anywhere on the host, writers
 * killed at random points, many processes and threads with drops, and
 * users kept apart. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../integration/helpers.h"
#include "helpers.h"

static char ns[64];

static void setup(void)
{
	ht_dir_new();
	snprintf(ns, sizeof ns, "ht-%d", (int)getpid());
}

static void teardown(void)
{
	ht_unlink_map(ns, (unsigned)geteuid());
	ht_unlink_map(ns, 65534);
	ht_dir_free();
}

TestSuite(host_processes, .init = setup, .fini = teardown, .timeout = 120);

static struct it_run run_basic(void)
{
	char conf[512];
	snprintf(conf, sizeof conf,
	         "[global]\nshared = host\nshared_memory = 2MiB\nnamespace = %s\n"
	         "[cache fix_square]\nsignature = long fix_square(long x)\n",
	         ns);
	const char *argv[] = {it_path("prog-pie-O2"), "basic", NULL};
	const char *env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json", NULL};
	return it_run(conf, argv, env);
}

Test(host_processes, the_second_process_is_served_from_the_first)
{
	struct it_run a = run_basic();
	cr_assert_eq(a.status, 0, "%s", a.err);
	cr_expect_eq(it_field(a.out, "runs"), 10, "%s", a.out);
	cr_expect(strstr(a.err, "\"shared_hits\":0,") != NULL, "%s", a.err);
	struct it_run b = run_basic();
	cr_assert_eq(b.status, 0, "%s", b.err);
	/* the function never ran: every key came from the first process */
	cr_expect_eq(it_field(b.out, "runs"), 0, "%s", b.out);
	cr_expect_eq(it_field(b.out, "sum"), it_field(a.out, "sum"));
	cr_expect(strstr(b.err, "\"hits\":30,\"misses\":0,") != NULL, "%s", b.err);
	cr_expect(strstr(b.err, "\"shared_hits\":10,") != NULL, "%s", b.err);
	cr_expect(strstr(b.err, "\"host\":{\"size\":2097152,\"entries\":10,\"evictions\":0}") !=
	              NULL,
	          "%s", b.err);
	it_free(&a);
	it_free(&b);
}

/* filedb watch: caches a read, starts `filedb set` as another process,
 * and must see the new value on its next call after that one returned. */
Test(host_processes, a_write_in_one_process_reaches_the_next_call_in_another)
{
	char db[] = "/tmp/ldmemo-hostdb-XXXXXX";
	int fd = mkstemp(db);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "7\n", 2), 2);
	close(fd);
	char conf[512];
	snprintf(conf, sizeof conf,
	         "[global]\nshared = host\nnamespace = %s\nttl = 1h\n"
	         "[cache db_get]\nsignature = long db_get(long key)\n"
	         "[invalidate db_set]\nsignature = int db_set(long key, long value)\n"
	         "drop = db_get(key)\n",
	         ns);
	const char *argv[] = {it_path("filedb"), "watch", db, "42", NULL};
	struct it_run r = it_run(conf, argv, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	/* seen=1: the first read after the other process's write got 42 */
	cr_expect_str_eq(r.out, "before=7 after=42 seen=1\n", "%s", r.err);
	unlink(db);
	it_free(&r);
}

/* The versions file of the hammer fixture: NKEYS versions, NKEYS done. */
static const char *versions(long nkeys)
{
	static char p[128];
	snprintf(p, sizeof p, "%s", ht_conf("")); /* the directory, made readable */
	*strrchr(p, '/') = 0;
	strcat(p, "/versions");
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0666);
	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, nkeys * 16), 0);
	close(fd);
	return p;
}

static const char *hammer_conf(void)
{
	static char conf[512];
	snprintf(conf, sizeof conf,
	         "[global]\nshared = host\nshared_memory = 1MiB\nnamespace = %s\nttl = 1h\n"
	         "[cache hv]\nsignature = long hv(long k)\n"
	         "[invalidate hset]\nsignature = long hset(long k)\ndrop = hv(k)\n",
	         ns);
	return ht_conf(conf);
}

static long count_field(const char *text, const char *field)
{
	long sum = 0;
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", field);
	for (const char *p = strstr(text, pat); p; p = strstr(p + 1, pat))
		sum += strtol(p + strlen(pat), NULL, 10);
	return sum;
}

/* 8 processes x 2 threads on 16 shared keys, a write every 20 calls: every
 * result checked by the fixture (key, check byte, never older than a write
 * that returned before the call). */
Test(host_processes, eight_processes_of_two_threads_with_drops_stay_linearizable)
{
	const char *vers = versions(16);
	const char *conf = hammer_conf();
	char out[256];
	snprintf(out, sizeof out, "%s.out", vers);
	const char *argv[] = {ht_path("hammer"), vers, "16", "4000", "2", "20", NULL};
	pid_t pids[8];
	for (int i = 0; i < 8; i++)
		pids[i] = ht_spawn(conf, argv, out, -1);
	int bad = 0;
	for (int i = 0; i < 8; i++)
		bad += ht_wait(pids[i], 100) != 0;
	char *text = ht_slurp(out);
	cr_expect_eq(bad, 0, "%s", text);
	cr_expect_eq(strstr(text, "stale:") || strstr(text, "torn:"), 0, "%s", text);
	cr_expect_gt(count_field(text, "shared_hits"), 0, "the host tier answered: %s", text);
	free(text);
}

/* Writers killed by SIGKILL at random points, 40 times, while a checker
 * runs: it never hangs and never gets a torn or stale value; afterwards a
 * fresh process still finds every key right. */
Test(host_processes, writers_killed_mid_fill_leave_no_torn_value_and_no_hang)
{
	const char *vers = versions(64);
	const char *conf = hammer_conf();
	char out[256], kout[256];
	snprintf(out, sizeof out, "%s.out", vers);
	snprintf(kout, sizeof kout, "%s.killed", vers);
	const char *check[] = {ht_path("hammer"), vers, "64", "20000", "2", "40", NULL};
	const char *fill[] = {ht_path("hammer"), vers, "64", "1000000", "2", "10", NULL};
	pid_t checker = ht_spawn(conf, check, out, -1);
	srand((unsigned)getpid());
	for (int i = 0; i < 40; i++) {
		pid_t p = ht_spawn(conf, fill, kout, -1);
		usleep(2000 + (useconds_t)(rand() % 30000));
		kill(p, SIGKILL);
		cr_assert_eq(ht_wait(p, 30), 128 + SIGKILL);
	}
	cr_expect_eq(ht_wait(checker, 100), 0, "%s", ht_slurp(out));
	const char *after[] = {ht_path("hammer"), vers, "64", "2000", "1", "0", NULL};
	pid_t last = ht_spawn(conf, after, out, -1);
	cr_expect_eq(ht_wait(last, 60), 0);
	char *text = ht_slurp(out);
	cr_expect_eq(strstr(text, "stale:") || strstr(text, "torn:"), 0, "%s", text);
	cr_expect_gt(count_field(text, "shared_hits"), 0, "%s", text);
	free(text);
}

/* Another user with the same config: its own mapping, never these entries. */
Test(host_processes, another_user_never_sees_the_entries)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to run a process as nobody");
	struct it_run a = run_basic();
	cr_assert_eq(a.status, 0, "%s", a.err);
	char conf[512];
	snprintf(conf, sizeof conf,
	         "[global]\nshared = host\nshared_memory = 2MiB\nnamespace = %s\n"
	         "[cache fix_square]\nsignature = long fix_square(long x)\n",
	         ns);
	const char *c = ht_conf(conf);
	char out[256];
	snprintf(out, sizeof out, "%s.nobody", c);
	const char *argv[] = {it_path("prog-pie-O2"), "basic", NULL};
	pid_t p = ht_spawn(c, argv, out, 65534);
	int st = ht_wait(p, 60);
	char *text = ht_slurp(out);
	if (st == 126 || st == 127)
		cr_skip_test("cannot run the fixture as nobody here: %s", text);
	cr_assert_eq(st, 0, "%s", text);
	cr_expect_eq(it_field(text, "runs"), 10, "the function ran for every key: %s", text);
	cr_expect(strstr(text, "\"shared_hits\":0,") != NULL, "%s", text);
	free(text);
	it_free(&a);
}

/* The host tier leaves L1 as it was: the method keeps its fast thunk, and
 * a process answers its repeated calls from L1, asking the host tier once
 * per key (a count, not a timing: issue 22 measured an L1 hit 1.76x slower
 * with the tier on, which was the machine's noise). */
Test(host_processes, l1_hits_keep_the_fast_thunk_with_the_host_tier_on)
{
	struct it_run a = run_basic();
	cr_assert_eq(a.status, 0, "%s", a.err);
	it_free(&a);
	char conf[512];
	snprintf(conf, sizeof conf,
	         "[global]\nshared = host\nshared_memory = 2MiB\nnamespace = %s\n"
	         "[cache fix_square]\nsignature = long fix_square(long x)\n",
	         ns);
	const char *argv[] = {it_path("prog-pie-O2"), "basic", NULL};
	const char *env[] = {"LDMEMO_LOG=info", "LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json",
	                     NULL};
	struct it_run b = it_run(conf, argv, env);
	cr_assert_eq(b.status, 0, "%s", b.err);
	const char *sq = strstr(b.err, "fix_square: ");
	cr_assert_not_null(sq, "%s", b.err);
	const char *fast = strstr(sq, "(fast hits)");
	cr_expect(fast && fast < strchr(sq, '\n'), "%s", b.err);
	/* 30 calls of 10 keys: 10 from the host tier, the 20 others from L1 */
	cr_expect_eq(it_field(b.out, "runs"), 0, "%s", b.out);
	cr_expect(strstr(b.err, "\"hits\":30,\"misses\":0,") != NULL, "%s", b.err);
	cr_expect(strstr(b.err, "\"shared_hits\":10,") != NULL, "%s", b.err);
	it_free(&b);
}

/* A mapping another process of the user left open to others is refused
 * with a message; the program runs on with its per-process cache. */
Test(host_processes, a_process_refuses_a_mapping_open_to_others_and_says_so)
{
	struct it_run a = run_basic();
	cr_assert_eq(a.status, 0, "%s", a.err);
	it_free(&a);
	char path[512];
	cr_assert_eq(lm_host_path(NULL, (unsigned)geteuid(), ns, path, sizeof path), 0);
	cr_assert_eq(chmod(path, 0666), 0);
	struct it_run b = run_basic();
	cr_assert_eq(b.status, 0, "%s", b.err);
	cr_expect(strstr(b.err, "open to group or others (not mode 0600): refused") != NULL, "%s",
	          b.err);
	cr_expect(strstr(b.err, "methods run with their per-process cache only") != NULL, "%s",
	          b.err);
	cr_expect_eq(it_field(b.out, "runs"), 10, "nothing taken from it: %s", b.out);
	cr_expect(strstr(b.err, "\"hits\":20,\"misses\":10,") != NULL, "%s", b.err);
	it_free(&b);
}
