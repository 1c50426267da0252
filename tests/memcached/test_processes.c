/* The memcached tier end to end: separate processes under the shim share
 * results through two real memcached servers, and servers that are down
 * cost only the cache, never a result. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../integration/helpers.h"
#include "helpers.h"

static struct lm_test_mc srv[2];

static void start(void)
{
	cr_assert(lm_test_mc_start(&srv[0]) && lm_test_mc_start(&srv[1]));
}

static void stop(void)
{
	lm_test_mc_kill(&srv[0]);
	lm_test_mc_kill(&srv[1]);
}

static struct it_run run_basic(void)
{
	char conf[512];
	snprintf(conf, sizeof conf,
	         "[global]\nbackend = memcached://127.0.0.1:%d,127.0.0.1:%d\n"
	         "namespace = it-mc\nredis_timeout = 200ms\n"
	         "[cache fix_square]\nsignature = long fix_square(long x)\n",
	         srv[0].port, srv[1].port);
	const char *argv[] = {it_path("prog-pie-O2"), "basic", NULL};
	const char *env[] = {"LDMEMO_STATS=stderr", "LDMEMO_STATS_FORMAT=json", NULL};
	return it_run(conf, argv, env);
}

Test(mc_shared, second_process_is_answered_by_the_first, .init = start, .fini = stop)
{
	struct it_run a = run_basic();
	cr_assert_eq(a.status, 0, "%s", a.err);
	cr_expect_eq(it_field(a.out, "runs"), 10, "%s", a.out);
	struct it_run b = run_basic();
	cr_assert_eq(b.status, 0, "%s", b.err);
	cr_expect_eq(it_field(b.out, "runs"), 0, "%s", b.out);
	cr_expect_eq(it_field(b.out, "sum"), it_field(a.out, "sum"));
	cr_expect(strstr(b.err, "\"hits\":30,\"misses\":0,\"bypassed\":0") != NULL, "%s", b.err);
	it_free(&a);
	it_free(&b);
}

Test(mc_shared, servers_down_run_with_the_local_cache, .init = start, .fini = stop)
{
	lm_test_mc_kill(&srv[0]);
	lm_test_mc_kill(&srv[1]);
	struct it_run r = run_basic();
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "sum"), 855);
	cr_expect_eq(it_field(r.out, "runs"), 10, "%s", r.out);
	cr_expect(strstr(r.err, "\"hits\":20,\"misses\":0,\"bypassed\":10") != NULL, "%s", r.err);
	it_free(&r);
}
