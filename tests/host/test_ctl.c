/* `ldmemo ctl host`: the host tier read and dropped with no live process. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../integration/helpers.h"
#include "helpers.h"

static char ns[64];

static void setup(void)
{
	snprintf(ns, sizeof ns, "htctl-%d", (int)getpid());
}

static void teardown(void)
{
	ht_unlink_map(ns, (unsigned)geteuid());
}

TestSuite(host_ctl, .init = setup, .fini = teardown, .timeout = 60);

static struct it_run fill(void)
{
	char conf[512];
	snprintf(conf, sizeof conf,
	         "[global]\nshared = host\nshared_memory = 2MiB\nnamespace = %s\n"
	         "[cache fix_square]\nsignature = long fix_square(long x)\n",
	         ns);
	const char *argv[] = {it_path("prog-pie-O2"), "basic", NULL};
	return it_run(conf, argv, NULL);
}

static struct it_run ctl(const char *a, const char *b, const char *c)
{
	char ldmemo[512];
	snprintf(ldmemo, sizeof ldmemo, "%s/build/ldmemo", getenv("PWD"));
	const char *argv[] = {ldmemo, "ctl", "host", ns, a, b, c, NULL};
	return it_run(NULL, argv, NULL);
}

Test(host_ctl, stats_and_invalidate_work_on_the_mapping_alone)
{
	struct it_run r = ctl("stats", NULL, NULL);
	cr_expect_eq(r.status, 2, "no mapping yet: %s", r.err);
	cr_expect(strstr(r.err, "No such file") != NULL, "%s", r.err);
	it_free(&r);

	struct it_run a = fill();
	cr_assert_eq(it_field(a.out, "runs"), 10, "%s", a.out);
	it_free(&a);
	r = ctl("stats", "-f", "json");
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "\"size\":2097152,") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\"entries\":10,") != NULL, "%s", r.out);
	it_free(&r);

	r = ctl("invalidate", "fix_square", NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	it_free(&r);
	a = fill();
	cr_expect_eq(it_field(a.out, "runs"), 10, "dropped: computed again: %s", a.out);
	it_free(&a);
	a = fill();
	cr_expect_eq(it_field(a.out, "runs"), 0, "%s", a.out);
	it_free(&a);

	r = ctl("invalidate", "--all", NULL);
	cr_expect_eq(r.status, 0, "%s", r.err);
	it_free(&r);
	r = ctl("stats", NULL, NULL);
	cr_expect(strstr(r.out, "\n0 entries now;") != NULL, "%s", r.out);
	it_free(&r);

	r = ctl("invalidate", NULL, NULL);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "usage: ldmemo ctl host") != NULL, "%s", r.err);
	it_free(&r);
}
