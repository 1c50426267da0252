/* Where repeated dumps go (issue 20): a path receives every dump of the
 * process, appended, or one file each with %n; a destination that cannot
 * work is refused at start, not found out at exit. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static const char conf[] = "[cache fix_hypot]\nsignature = double fix_hypot(double a, double b)\n";

static size_t count(const char *text, const char *what)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static char *slurp_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return strdup("");
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strdup(buf);
}

Test(dumps, signal_dumps_to_a_path_are_appended)
{
	char dir[] = "/tmp/ldmemo-dumps-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char dest[400], path[300];
	snprintf(path, sizeof(path), "%s/stats.json", dir);
	snprintf(dest, sizeof(dest), "LDMEMO_STATS=%s", path);
	const char *env[] = {dest, "LDMEMO_STATS_SIGNAL=USR1", "LDMEMO_STATS_FORMAT=json", NULL};
	const char *argv[] = {"/bin/sh", "-c", "kill -USR1 $$; kill -USR1 $$; echo alive", NULL};
	struct it_run r = it_run(conf, argv, env);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, "alive\n");
	char *text = slurp_file(path);
	/* Two signals, two dumps: the second did not overwrite the first
	 * (dash leaves by _exit: no exit dump). */
	cr_expect_eq(count(text, "\"methods\""), 2, "%s", text);
	free(text);
	unlink(path);
	rmdir(dir);
	it_free(&r);
}

Test(dumps, percent_n_numbers_the_dumps)
{
	char dir[] = "/tmp/ldmemo-dumps-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char dest[400], path[300];
	snprintf(dest, sizeof(dest), "LDMEMO_STATS=%s/stats.%%n.json", dir);
	const char *env[] = {dest, "LDMEMO_STATS_SIGNAL=USR1", "LDMEMO_STATS_FORMAT=json", NULL};
	const char *argv[] = {"/bin/sh", "-c", "kill -USR1 $$; kill -USR1 $$; echo alive", NULL};
	struct it_run r = it_run(conf, argv, env);
	cr_expect_eq(r.status, 0, "%s", r.err);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/stats.%d.json", dir, i);
		char *text = slurp_file(path);
		cr_expect_eq(count(text, "\"methods\""), 1, "%s: %s", path, text);
		free(text);
		unlink(path);
	}
	rmdir(dir);
	it_free(&r);
}

/* fd:abc and fd:-1 were accepted and failed only at exit. */
Test(dumps, bad_fd_destination_is_refused_at_start)
{
	static const char *const dests[] = {"LDMEMO_STATS=fd:abc", "LDMEMO_STATS=fd:-1",
	                                    "LDMEMO_STATS=fd:77"};
	for (size_t i = 0; i < sizeof(dests) / sizeof(dests[0]); i++) {
		const char *env[] = {dests[i], NULL};
		const char *argv[] = {"/bin/sh", "-c", "echo started >&2", NULL};
		struct it_run r = it_run(conf, argv, env);
		cr_expect_eq(r.status, 0, "%s", r.err);
		const char *warn = strstr(r.err, "no statistics dump");
		const char *started = strstr(r.err, "started");
		cr_expect(warn && started && warn < started, "%s: %s", dests[i], r.err);
		cr_expect_null(strstr(r.err, "cannot write statistics"), "%s", r.err);
		it_free(&r);
	}
}

Test(dumps, bad_stats_key_is_a_config_error)
{
	const char c[] = "[global]\nstats = fd:x\n"
	                 "[cache fix_hypot]\nsignature = double fix_hypot(double a, double b)\n";
	const char *argv[] = {"/bin/true", NULL};
	struct it_run r = it_run(c, argv, NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.err, "invalid statistics destination 'fd:x'") != NULL, "%s", r.err);
	it_free(&r);
}

/* Stats that hide nothing (issue 20): the negatives among the stored
 * results are counted, and a method whose section has errors is shown as
 * a config error, not as unresolved (as if it were still looked for). */
Test(dumps, negatives_counted_and_config_errors_shown_as_such)
{
	const char c[] = "[cache fix_fail]\nsignature = int fix_fail(int x)\n"
	                 "when = ret >= 0\nnegative_ttl = 1h\n"
	                 "[cache fix_square]\nsignature = long fix_square(long x\n";
	const char *env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json", NULL};
	const char *argv[] = {it_path("prog-pie-O2"), "negative", NULL};
	struct it_run r = it_run(c, argv, env);
	cr_assert_eq(r.status, 0, "%s", r.err);
	const char *fail = strstr(r.err, "{\"name\":\"fix_fail\"");
	cr_assert_not_null(fail, "%s", r.err);
	/* 4 succeeds, -1 fails with ENOENT (a negative), 3 with EAGAIN
	 * (transient: never stored). */
	cr_expect(strstr(fail, "\"stored\":2,") != NULL, "%s", fail);
	cr_expect(strstr(fail, "\"negative\":1}") != NULL, "%s", fail);
	const char *sq = strstr(r.err, "{\"name\":\"fix_square\"");
	cr_assert_not_null(sq, "%s", r.err);
	cr_expect(strncmp(strstr(sq, "\"hook\":"), "\"hook\":\"config_error\"", 21) == 0, "%s", sq);
	it_free(&r);
}
