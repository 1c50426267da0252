/* The API example (examples/api): it must run the same with and without
 * the preload, and under the shim its calls must reach the cache. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

Test(api, example_runs_without_the_preload)
{
	const char *argv[] = {bpath("tests/control/api-example"), NULL};
	struct run r = run_prog(argv, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "ldmemo: not loaded\n") != NULL, "%s", r.out);
	cr_expect_eq(field(r.out, "two calls: runs"), 2);
	cr_expect_eq(field(r.out, "after invalidation: runs"), 3);
	run_free(&r);
}

Test(api, example_under_the_shim_hits_invalidates_and_dumps)
{
	static char shim[600], conf[600];
	const char *override = getenv("CTL_SHIM");
	snprintf(shim, sizeof shim, "LD_PRELOAD=%s", override ? override : bpath("libldmemo.so"));
	snprintf(conf, sizeof conf, "LDMEMO_CONFIG=%s/examples/api/example.conf", getenv("PWD"));
	const char *env[] = {shim, conf, NULL};
	const char *argv[] = {bpath("tests/control/api-example"), NULL};
	struct run r = run_prog(argv, env);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "ldmemo: loaded\n") != NULL, "%s", r.out);
	cr_expect_eq(field(r.out, "two calls: runs"), 1, "%s", r.out);
	cr_expect_eq(field(r.out, "invalidated"), 1, "%s", r.out);
	cr_expect_eq(field(r.out, "after invalidation: runs"), 2, "%s", r.out);
	cr_expect_eq(field(r.out, "invalidated_all"), 1, "%s", r.out);
	const char *row = strstr(r.err, "\nslow_square ");
	cr_expect(row != NULL, "the dump: %s", r.err);
	run_free(&r);
}
