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
