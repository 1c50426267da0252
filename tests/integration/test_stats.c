/* Statistics dumps (spec section 5): destinations, the three formats
 * checked with real parsers, per-process dumps after fork, and dumps on a
 * signal during heavy hit traffic. */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static const char conf[] = "[cache fix_square]\nsignature = long fix_square(long x)\n"
                           "[cache fix_get_user]\nsignature = int fix_get_user(i64 id, out(64) u)\n"
                           "[invalidate fix_update_user]\n"
                           "signature = int fix_update_user(i64 id, str name)\n"
                           "drop = fix_get_user(id)\n";

static struct it_run run(const char *scenario, const char *const *env)
{
	const char *argv[] = {it_path("prog-pie-O2"), scenario, NULL};
	return it_run(conf, argv, env);
}

/* Runs the python checker on PATH; returns its stdout. */
static char *check(const char *kind, const char *path)
{
	const char *argv[] = {"/usr/bin/python3", "tests/integration/tools/check_stats.py", kind,
	                      path, NULL};
	struct it_run r = it_run(NULL, argv, NULL);
	cr_assert_eq(r.status, 0, "%s check failed: %s", kind, r.err);
	free(r.err);
	return r.out;
}

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/ldmemo-stats-XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

Test(stats, text_table_on_stderr)
{
	const char *env[] = {"LDMEMO_STATS=stderr", NULL};
	struct it_run r = run("basic", env);
	cr_assert_eq(r.status, 0);
	cr_expect(strstr(r.err, "statistics for ") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "hit%") != NULL, "%s", r.err);
	const char *row = strstr(r.err, "\nfix_square ");
	cr_assert(row != NULL, "%s", r.err);
	cr_expect(strstr(row, " 30 ") && strstr(row, " 20 ") && strstr(row, " 66.7%"), "%s", row);
	it_free(&r);
}

Test(stats, json_has_every_field_and_sums)
{
	const char *env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json", NULL};
	struct it_run r = run("basic", env);
	cr_assert_eq(r.status, 0);
	char *path = write_tmp(r.err);
	char *out = check("json", path);
	cr_expect(strstr(out, "\"calls\": 30, \"hits\": 20, \"misses\": 10") != NULL, "%s", out);
	/* the program's path, read at start-up */
	cr_expect(strstr(r.err, "/prog-pie-O2\"") != NULL, "%s", r.err);
	unlink(path);
	free(path);
	free(out);
	it_free(&r);
}

/* ttl = 0 stores nothing, so its calls skip the lookup altogether
 * (dispatch.c, never_stored): each is still counted as a miss, and the
 * program's output is the plain one. */
Test(stats, ttl_zero_counts_every_call_as_a_miss)
{
	const char *env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json", NULL};
	const char *argv[] = {it_path("prog-pie-O2"), "basic", NULL};
	struct it_run plain = it_run(NULL, argv, NULL);
	struct it_run r =
	    it_run("[cache fix_square]\nsignature = long fix_square(long x)\nttl = 0\n", argv, env);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, plain.out);
	char *path = write_tmp(r.err);
	char *out = check("json", path);
	cr_expect(strstr(out, "\"calls\": 30, \"hits\": 0, \"misses\": 30") != NULL, "%s", out);
	unlink(path);
	free(path);
	free(out);
	it_free(&r);
	it_free(&plain);
}

Test(stats, prometheus_parses)
{
	const char *env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=prom", NULL};
	struct it_run r = run("invalidate", env);
	cr_assert_eq(r.status, 0);
	char *path = write_tmp(r.err);
	char *out = check("prom", path);
	cr_expect(strstr(out, "\"ldmemo_hits_total{fix_get_user}\": 1.0") != NULL, "%s", out);
	unlink(path);
	free(path);
	free(out);
	it_free(&r);
}

Test(stats, stderr_closed_by_the_program)
{
	const char *env[] = {"LDMEMO_STATS=stderr", NULL};
	struct it_run r = run("closestderr", env);
	cr_assert_eq(r.status, 0);
	cr_expect(strstr(r.err, "\nfix_square ") != NULL, "%s", r.err);
	it_free(&r);
}

Test(stats, path_template_and_per_process_after_fork)
{
	char dir[] = "/tmp/ldmemo-fork-XXXXXX";
	cr_assert(mkdtemp(dir) != NULL);
	char dest[256];
	snprintf(dest, sizeof dest, "LDMEMO_STATS=%s/%%e.%%p.json", dir);
	const char *env[] = {dest, "LDMEMO_STATS_FORMAT=json", NULL};
	struct it_run r = run("fork", env);
	cr_assert_eq(r.status, 0, "%s", r.err);
	/* The child's copy of the cache answers: no new runs there. */
	cr_expect(strstr(r.out, "child runs=4") != NULL, "%s", r.out);
	char pat[300];
	snprintf(pat, sizeof pat, "%s/prog-pie-O2.*.json", dir);
	glob_t g;
	cr_assert_eq(glob(pat, 0, NULL, &g), 0);
	cr_expect_eq(g.gl_pathc, 2, "one dump per process");
	int child_hits = 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char *out = check("json", g.gl_pathv[i]);
		/* Statistics are per process: the child counts only its own
		 * four calls, all hits. */
		if (strstr(out, "\"calls\": 4, \"hits\": 4, \"misses\": 0"))
			child_hits++;
		free(out);
		unlink(g.gl_pathv[i]);
	}
	cr_expect_eq(child_hits, 1);
	globfree(&g);
	rmdir(dir);
	it_free(&r);
}

Test(stats, thousand_signals_during_hits)
{
	char dest[] = "/tmp/ldmemo-sig-XXXXXX";
	int fd = mkstemp(dest);
	cr_assert(fd >= 0);
	close(fd);
	char d[300];
	snprintf(d, sizeof d, "LDMEMO_STATS=%s", dest);
	const char *env[] = {d, "LDMEMO_STATS_SIGNAL=USR2", "LDMEMO_STATS_FORMAT=json", NULL};
	struct it_run r = run("signals", env);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, "bad=0\n");
	char *out = check("json", dest);
	free(out);
	unlink(dest);
	it_free(&r);
}

/* The program installs its own handler for the statistics signal: the
 * dumps stop, and ldmemo says so once at info (issue 16). */
Test(stats, a_program_taking_the_stats_signal_is_told_about)
{
	const char *argv[] = {it_path("ownsig"), NULL};
	const char *env[] = {"LDMEMO_STATS_SIGNAL=USR1", "LDMEMO_LOG=info", NULL};
	struct it_run r = it_run("[cache twice]\nsignature = long twice(long x)\n", argv, env);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "ok handled=1") != NULL, "%s", r.out);
	cr_expect(strstr(r.err, "the program installed its own handler"), "%s", r.err);
	it_free(&r);
	const char *quiet[] = {"LDMEMO_LOG=info", NULL};
	r = it_run("[cache twice]\nsignature = long twice(long x)\n", argv, quiet);
	cr_expect(strstr(r.err, "installed its own handler") == NULL, "no dump signal: %s", r.err);
	it_free(&r);
}
