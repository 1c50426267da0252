/* Real Debian programs nobody here wrote: the output must be byte for byte
 * the same with the shim, and the statistics must show hits. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

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
