/* Real Debian programs nobody here wrote: the output must be byte for byte
 * the same with the shim, and the statistics must show hits. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static void same_output_with_hits(const char *conf, const char *const *argv, const char *method)
{
	const char *env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json", NULL};
	struct it_run bare = it_run(NULL, argv, NULL);
	struct it_run memo = it_run(conf, argv, env);
	cr_assert_eq(memo.status, bare.status, "%s", memo.err);
	cr_assert_str_eq(memo.out, bare.out);
	char want[128];
	snprintf(want, sizeof want, "{\"name\":\"%s\"", method);
	const char *m = strstr(memo.err, want);
	cr_assert(m != NULL, "%s", memo.err);
	const char *h = strstr(m, "\"hits\":");
	cr_assert(h != NULL);
	cr_expect(strtol(h + 7, NULL, 10) > 0, "no hits: %s", memo.err);
	it_free(&bare);
	it_free(&memo);
}

/* coreutils' stat looks the owner up once per file: getpwuid's static
 * struct passwd is deep-copied. */
Test(real, coreutils_stat_getpwuid)
{
	const char conf[] = "[type passwd]\n"
	                    "fields = str pw_name, str pw_passwd, u32 pw_uid, u32 pw_gid, "
	                    "str pw_gecos, str pw_dir, str pw_shell\n"
	                    "[cache getpwuid]\n"
	                    "signature = static passwd* getpwuid(uid_t uid)\n"
	                    "when = ret != NULL\n";
	const char *argv[] = {"/usr/bin/stat", "-c",          "%U %n",       "/usr/bin/stat",
	                      "/usr/bin/env",  "/usr/bin/id", "/etc/passwd", NULL};
	same_output_with_hits(conf, argv, "getpwuid");
}

/* gawk's sin() is libm's, an IFUNC in a stripped library: GOT mode. */
Test(real, gawk_libm_sin)
{
	const char conf[] = "[cache sin]\nsignature = double sin(double x)\n";
	const char *argv[] = {"/usr/bin/gawk",
	                      "BEGIN { for (i = 0; i < 5000; i++) s += sin(i % 50); "
	                      "printf \"%.9f\\n\", s }",
	                      NULL};
	same_output_with_hits(conf, argv, "sin");
}

/* What `ldmemo symbols --config` writes for find's owner lookups must be
 * right as written: getpwuid and getgrgid return libc's static storage,
 * which a `ptr` signature would hand back after the next call overwrote
 * it (wrong owners on most lines). Files of several owners, known and
 * unknown to /etc/passwd, so that both hits and negative results occur. */
Test(real, generated_config_for_find_keeps_its_output)
{
	static const unsigned ids[] = {0, 1, 2, 65534, 4242, 4343};
	char dir[] = "/tmp/ldmemo-find-XXXXXX", path[64], ldmemo[4096];

	if (geteuid() != 0)
		cr_skip_test("chown to other owners needs root");
	cr_assert_not_null(mkdtemp(dir));
	for (int i = 0; i < 60; i++) {
		snprintf(path, sizeof path, "%s/f%02d", dir, i);
		int fd = open(path, O_CREAT | O_WRONLY, 0644);
		cr_assert_geq(fd, 0);
		close(fd);
		cr_assert_eq(chown(path, ids[i % 6], ids[(i / 6) % 6]), 0);
	}
	snprintf(ldmemo, sizeof ldmemo, "%s/../../ldmemo", it_path(""));
	const char *gen[] = {ldmemo,          "symbols",        "--config",
	                     "/usr/bin/find", "get[pg][wr]?id", NULL};
	struct it_run conf = it_run(NULL, gen, NULL);
	cr_assert_eq(conf.status, 0, "%s", conf.err);
	cr_assert(strstr(conf.out, "static passwd* getpwuid"), "%s", conf.out);
	const char *argv[] = {"/usr/bin/find", dir, "-printf", "%u %g %m %p\n", NULL};
	same_output_with_hits(conf.out, argv, "getpwuid");
	it_free(&conf);
	for (int i = 0; i < 60; i++) {
		snprintf(path, sizeof path, "%s/f%02d", dir, i);
		unlink(path);
	}
	rmdir(dir);
}

/* The counter NAME of METHOD in the JSON statistics TEXT, or -1. */
static long json_counter(const char *text, const char *method, const char *name)
{
	char want[128];
	snprintf(want, sizeof want, "{\"name\":\"%s\"", method);
	const char *m = strstr(text, want);
	if (!m)
		return -1;
	snprintf(want, sizeof want, "\"%s\":", name);
	const char *c = strstr(m, want);
	return c ? strtol(c + strlen(want), NULL, 10) : -1;
}

/* Negative caching in a real program: find over files whose owner and
 * group no database knows. getpwuid and getgrgid answer NULL for every
 * file; the first call of each runs, the others hit the negative, and
 * find prints the same numeric owners. */
Test(real, find_over_unknown_owners_caches_the_negatives)
{
	char dir[] = "/tmp/ldmemo-owners-XXXXXX", path[64];
	const int nfiles = 40;

	if (geteuid() != 0)
		cr_skip_test("chown to other owners needs root");
	if (getpwuid(4242) || getgrgid(4343))
		cr_skip_test("uid 4242 or gid 4343 exists here");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chown(dir, 4242, 4343), 0);
	for (int i = 0; i < nfiles; i++) {
		snprintf(path, sizeof path, "%s/f%02d", dir, i);
		int fd = open(path, O_CREAT | O_WRONLY, 0644);
		cr_assert_geq(fd, 0);
		close(fd);
		cr_assert_eq(chown(path, 4242, 4343), 0);
	}
	const char conf[] = "[type passwd]\n"
	                    "fields = str pw_name, str pw_passwd, u32 pw_uid, u32 pw_gid, "
	                    "str pw_gecos, str pw_dir, str pw_shell\n"
	                    "[type group]\n"
	                    "fields = str gr_name, str gr_passwd, u32 gr_gid, strv gr_mem\n"
	                    "[cache getpwuid]\n"
	                    "signature = static passwd* getpwuid(u32 uid)\n"
	                    "when = ret != NULL\n"
	                    "negative_ttl = 1h\n"
	                    "[cache getgrgid]\n"
	                    "signature = static group* getgrgid(u32 gid)\n"
	                    "when = ret != NULL\n"
	                    "negative_ttl = 1h\n";
	const char *argv[] = {"/usr/bin/find", dir, "-printf", "%u %g %p\n", NULL};
	const char *env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json", NULL};
	struct it_run bare = it_run(NULL, argv, NULL);
	struct it_run memo = it_run(conf, argv, env);
	cr_assert_eq(bare.status, 0, "%s", bare.err);
	cr_assert_eq(memo.status, 0, "%s", memo.err);
	cr_assert_str_eq(memo.out, bare.out);
	cr_assert(strstr(bare.out, "4242 4343 "), "find prints the numeric owner: %s", bare.out);
	for (int i = 0; i < 2; i++) {
		const char *method = i ? "getgrgid" : "getpwuid";
		cr_expect_eq(json_counter(memo.err, method, "misses"), 1, "%s: %s", method,
		             memo.err);
		cr_expect_eq(json_counter(memo.err, method, "hits"), nfiles, "%s: %s", method,
		             memo.err);
	}
	it_free(&bare);
	it_free(&memo);
	for (int i = 0; i < nfiles; i++) {
		snprintf(path, sizeof path, "%s/f%02d", dir, i);
		unlink(path);
	}
	rmdir(dir);
}
