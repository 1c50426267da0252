/* Guarantee 10 for memcached, as for Redis: a server that stops answering
 * is reported once, and once again when it answers again. */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static struct lm_test_mc srv;
static struct lm_test_l2 a;

static void setup(void)
{
	cr_assert(lm_test_mc_start(&srv), "memcached starts");
	cr_assert_not_null(lm_test_l2_open(&a, &srv, 1, NULL, 100));
	lm_test_mc_reports_reset();
}

static void teardown(void)
{
	lm_test_l2_close(&a);
	if (srv.pid > 0)
		kill(srv.pid, SIGCONT);
	lm_test_mc_kill(&srv);
}

TestSuite(mc_reports, .init = setup, .fini = teardown, .timeout = 60);

Test(mc_reports, down_and_back_are_each_reported_once)
{
	char v[64];
	cr_assert_eq(lm_test_set(a.l2, M_USER, "alice", "v", 60000), LM_L2_HIT);
	cr_expect_eq(lm_test_mc_reports_now().down, 0);
	kill(srv.pid, SIGSTOP);
	for (int i = 0; i < 20; i++)
		lm_test_get(a.l2, M_USER, "alice", v, sizeof v);
	struct lm_test_mc_reports r = lm_test_mc_reports_now();
	cr_expect_eq(r.down, 1, "down reported %d times", r.down);
	cr_expect(r.why[0] != '\0', "no reason given");
	cr_expect_eq(r.up, 0);
	kill(srv.pid, SIGCONT);
	cr_expect(
	    LM_WAIT_FOR(lm_test_set(a.l2, M_USER, "alice", "back", 60000) == LM_L2_HIT, 10000),
	    "no recovery");
	r = lm_test_mc_reports_now();
	cr_expect_eq(r.down, 1);
	cr_expect_eq(r.up, 1, "back reported %d times", r.up);
}

Test(mc_reports, a_killed_server_is_reported_once)
{
	char v[64];
	cr_assert_eq(lm_test_set(a.l2, M_USER, "alice", "v", 60000), LM_L2_HIT);
	lm_test_mc_kill(&srv);
	for (int i = 0; i < 20; i++)
		lm_test_get(a.l2, M_USER, "alice", v, sizeof v);
	struct lm_test_mc_reports r = lm_test_mc_reports_now();
	cr_expect_eq(r.down, 1, "down reported %d times", r.down);
	cr_expect_eq(r.up, 0);
}
