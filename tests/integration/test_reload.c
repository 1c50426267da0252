/* A library closed with dlclose and opened again (issue 16): its methods
 * are hooked again and cached again, the statistics say `unloaded` while
 * it is closed, and another build of it is never served the first build's
 * entries. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

/* host_sq is the program's, called by the library through its GOT. */
#define HOST_SQ "[cache host_sq]\nsignature = long host_sq(long x)\nhook = got\n"
static const char conf_detour[] = "[cache re_cube]\nsignature = long re_cube(long x)\n"
                                  "object = libre.so\nhook = detour\n" HOST_SQ;
static const char conf_got[] = "[cache re_cube]\nsignature = long re_cube(long x)\n"
                               "object = libre.so\nhook = got\n" HOST_SQ;

/* Runs the fixture with BUILD_B as the second build; DEST in a fresh
 * directory, named libre.so as the config's object. */
static struct it_run reload_as(const char *conf, const char *build_b, const char *mode)
{
	char dir[] = "/tmp/ldmemo-reload-XXXXXX";
	cr_assert(mkdtemp(dir) != NULL);
	char dest[64], a[4096], b[4096];
	snprintf(dest, sizeof dest, "%s/libre.so", dir);
	snprintf(a, sizeof a, "%s", it_path("libre.so"));
	snprintf(b, sizeof b, "%s", it_path(build_b));
	const char *argv[] = {it_path("reload"), dest, a, b, mode, NULL};
	struct it_run r = it_run(conf, argv, NULL);
	unlink(dest);
	rmdir(dir);
	return r;
}

static struct it_run reload(const char *conf, const char *build_b)
{
	return reload_as(conf, build_b, NULL);
}

/* re_cube's object in the JSON of the line "statsN: ..." of OUT (a copy). */
static char *stats_line(const char *out, int n)
{
	char tag[16];
	snprintf(tag, sizeof tag, "stats%d: ", n);
	const char *p = strstr(out, tag);
	cr_assert(p != NULL, "no %s in:\n%s", tag, out);
	p = strstr(p, "{\"name\":\"re_cube\"");
	cr_assert(p != NULL, "no re_cube in:\n%s", out);
	return strndup(p, strcspn(p, "}\n"));
}

/* The number after "\"KEY\":" in JSON, or -1. */
static long json_num(const char *json, const char *key)
{
	char k[64];
	snprintf(k, sizeof k, "\"%s\":", key);
	const char *p = strstr(json, k);
	return p ? strtol(p + strlen(k), NULL, 10) : -1;
}

static long phase_field(const char *out, int n, const char *key)
{
	char tag[16];
	snprintf(tag, sizeof tag, "phase%d ", n);
	const char *p = strstr(out, tag);
	cr_assert(p != NULL, "no %s in:\n%s", tag, out);
	return it_field(p, key);
}

static void hooked_again(const char *conf, const char *hook)
{
	struct it_run r = reload(conf, "libre.so");
	cr_assert_eq(r.status, 0, "%s%s", r.out, r.err);
	/* 8 calls on 2 keys a phase: 2 misses, 6 hits each time. */
	cr_expect_eq(phase_field(r.out, 1, "runs"), 2, "%s", r.out);
	cr_expect_eq(phase_field(r.out, 3, "runs"), 2, "cached again after the reload:\n%s%s",
	             r.out, r.err);
	cr_expect_eq(phase_field(r.out, 3, "s"), phase_field(r.out, 1, "s"));
	/* The program's own function stays cached through the library's
	 * slot, which is patched again when the library comes back. */
	cr_expect_eq(phase_field(r.out, 3, "host"), 1, "%s%s", r.out, r.err);
	char want[32];
	snprintf(want, sizeof want, "\"hook\":\"%s\"", hook);
	char *s1 = stats_line(r.out, 1), *s2 = stats_line(r.out, 2), *s3 = stats_line(r.out, 3);
	cr_expect(strstr(s1, want) != NULL, "%s", s1);
	cr_expect(strstr(s2, "\"hook\":\"unloaded\"") != NULL, "while closed: %s", s2);
	cr_expect(strstr(s3, want) != NULL, "after the reload: %s", s3);
	cr_expect_eq(json_num(s1, "hits"), 6, "%s", s1);
	cr_expect_eq(json_num(s3, "hits"), 12, "hits counted again: %s", s3);
	free(s1);
	free(s2);
	free(s3);
	it_free(&r);
}

Test(reload, detour_hooked_again_after_dlclose_and_dlopen)
{
	hooked_again(conf_detour, "detour");
}

Test(reload, got_hook_of_a_closed_library_hooked_again)
{
	hooked_again(conf_got, "got");
}

/* Another build under the same name: what it returns is its own, never
 * the first build's cached results. */
Test(reload, another_build_is_not_served_old_entries)
{
	const char *confs[] = {conf_detour, conf_got};
	for (int i = 0; i < 2; i++) {
		struct it_run memo = reload(confs[i], "libre2.so");
		struct it_run bare = reload(NULL, "libre2.so");
		cr_assert_eq(memo.status, 0, "%s%s", memo.out, memo.err);
		cr_assert_eq(bare.status, 0, "%s%s", bare.out, bare.err);
		cr_expect_eq(phase_field(memo.out, 3, "s"), phase_field(bare.out, 3, "s"), "%s",
		             memo.out);
		cr_expect_eq(phase_field(memo.out, 3, "runs"), 2, "%s%s", memo.out, memo.err);
		it_free(&memo);
		it_free(&bare);
	}
}

/* Adaptive caching stepped aside from re_cube (too cheap to cache), then
 * its library was closed: the re-sampling that comes due must not write
 * the detour back into memory that is gone. */
Test(reload, adaptive_resampling_after_dlclose)
{
	const char *confs[] = {conf_detour, conf_got};
	for (int i = 0; i < 2; i++) {
		char conf[512];
		snprintf(conf, sizeof conf, "%s[cache prog_sq]\nsignature = long prog_sq(long x)\n",
		         confs[i]);
		struct it_run memo = reload_as(conf, "libre.so", "adaptive");
		struct it_run bare = reload_as(NULL, "libre.so", "adaptive");
		cr_expect_eq(memo.status, 0, "%s%s", memo.out, memo.err);
		cr_expect_str_eq(memo.out, bare.out, "%s", memo.err);
		it_free(&memo);
		it_free(&bare);
	}
}

/* Closing and opening the library again and again while other threads
 * call another hooked method: every result right, no crash. prog_sq is
 * cheap, so adaptive caching steps aside from it and samples it again
 * while the threads call it: its entry then holds a jump to the hook or a
 * jump to the counting stub, never its own instructions, which a thread
 * could be stopped inside (that crashed here under ASan, 2 runs of 3). */
Test(reload, churn_while_other_methods_are_called)
{
	const char *confs[] = {conf_detour, conf_got};
	for (int i = 0; i < 2; i++) {
		char conf[512];
		snprintf(conf, sizeof conf,
		         "%s[cache prog_sq]\nsignature = long prog_sq(long x)\n",
		         confs[i]);
		struct it_run r = reload_as(conf, "libre.so", "churn");
		cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
		cr_expect_str_eq(r.out, "churn bad=0\n", "%s", r.err);
		it_free(&r);
	}
}
