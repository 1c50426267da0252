/* Servers that die or stall: every call answers within a bound (the
 * deadline is 50 ms; the bound checked is 1 s), results are the right
 * value or LM_L2_DOWN, never a wrong one; the tier comes back after a
 * restart; a drop that could not be sent is replayed as a drop of all. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "shim/tier/l2_internal.h"

static struct lm_test_mc srv[2];
static struct lm_test_l2 a, b;

static void setup(void)
{
	cr_assert(lm_test_mc_start(&srv[0]), "memcached starts");
	cr_assert(lm_test_mc_start(&srv[1]), "memcached starts");
	cr_assert_not_null(lm_test_l2_open(&a, srv, 2, NULL, 100));
	cr_assert_not_null(lm_test_l2_open(&b, srv, 2, NULL, 100));
}

static void teardown(void)
{
	lm_test_l2_close(&a);
	lm_test_l2_close(&b);
	for (int i = 0; i < 2; i++) {
		if (srv[i].pid > 0)
			kill(srv[i].pid, SIGCONT);
		lm_test_mc_kill(&srv[i]);
	}
}

TestSuite(mc_failure, .init = setup, .fini = teardown, .timeout = 60);

#define NKEYS 40

static void fill(void)
{
	char key[32], val[32];
	for (int i = 0; i < NKEYS; i++) {
		snprintf(key, sizeof key, "k%d", i);
		snprintf(val, sizeof val, "v%d", i);
		cr_assert_eq(lm_test_set(a.l2, M_USER, key, val, 60000), LM_L2_HIT);
	}
}

/* The server holding the generations. */
static int gen_server(void)
{
	return lm_test_where(srv, 2, "lmtest:#gen");
}

/* Read every key from L: each a HIT with the right value or DOWN, none
 * slower than the bound. Counts into HITS and DOWNS. */
static void read_all(struct lm_l2 *l, int *hits, int *downs)
{
	char key[32], val[32], v[64];
	*hits = *downs = 0;
	for (int i = 0; i < NKEYS; i++) {
		snprintf(key, sizeof key, "k%d", i);
		snprintf(val, sizeof val, "v%d", i);
		int64_t t0 = lm_test_ms();
		enum lm_l2_result r = lm_test_get(l, M_USER, key, v, sizeof v);
		int64_t took = lm_test_ms() - t0;
		cr_expect_lt(took, 1000, "%s took %lld ms", key, (long long)took);
		cr_expect(r == LM_L2_DOWN || (r == LM_L2_HIT && strcmp(v, val) == 0),
		          "%s: result %d value '%s'", key, r, v);
		*hits += r == LM_L2_HIT;
		*downs += r == LM_L2_DOWN;
	}
}

Test(mc_failure, a_killed_data_server_gives_down_never_a_wrong_value)
{
	fill();
	int g = gen_server(), hits, downs;
	cr_assert_geq(g, 0);
	lm_test_mc_kill(&srv[1 - g]);
	read_all(a.l2, &hits, &downs);
	cr_expect_gt(hits, 0, "keys on the live server are still served");
	cr_expect_gt(downs, 0, "keys on the dead server are down");
	read_all(b.l2, &hits, &downs);
	cr_expect_gt(hits, 0);
}

Test(mc_failure, a_killed_generation_server_gives_down)
{
	fill();
	int g = gen_server(), hits, downs;
	cr_assert_geq(g, 0);
	lm_test_mc_kill(&srv[g]);
	usleep(150 * 1000); /* past l1_ttl: the cached generations are no longer used */
	read_all(b.l2, &hits, &downs);
	cr_expect_eq(downs, NKEYS);
}

Test(mc_failure, a_stalled_server_answers_down_within_the_deadline)
{
	fill();
	int hits, downs;
	kill(srv[0].pid, SIGSTOP);
	kill(srv[1].pid, SIGSTOP);
	usleep(150 * 1000);
	int64_t t0 = lm_test_ms();
	read_all(a.l2, &hits, &downs);
	cr_expect_eq(downs, NKEYS);
	cr_expect_eq(lm_test_set(a.l2, M_USER, "k0", "new", 60000), LM_L2_DOWN);
	lm_l2_drop_key(a.l2, M_USER, "k1", 2);
	lm_l2_drop_method(a.l2, M_USER);
	cr_expect_lt(lm_test_ms() - t0, 3000, "backoff keeps later calls off the network");
	kill(srv[0].pid, SIGCONT);
	kill(srv[1].pid, SIGCONT);
}

Test(mc_failure, the_tier_comes_back_after_a_restart)
{
	char v[64];
	fill();
	lm_test_mc_kill(&srv[0]);
	lm_test_mc_kill(&srv[1]);
	cr_expect_eq(lm_test_get(a.l2, M_USER, "k0", v, sizeof v), LM_L2_DOWN);
	cr_assert(lm_test_mc_restart(&srv[0]));
	cr_assert(lm_test_mc_restart(&srv[1]));
	cr_expect(LM_WAIT_FOR(lm_test_set(a.l2, M_USER, "k0", "again", 60000) == LM_L2_HIT, 8000));
	cr_expect(LM_WAIT_FOR(lm_test_get(a.l2, M_USER, "k0", v, sizeof v) == LM_L2_HIT, 8000));
	cr_expect_str_eq(v, "again");
}

Test(mc_failure, a_drop_that_was_not_sent_is_replayed_as_a_drop_of_all)
{
	char v[64], name[512];
	fill();
	cr_assert_eq(lm_test_get(b.l2, M_USER, "k3", v, sizeof v), LM_L2_HIT);
	cr_assert(lm_test_data_key(srv, 2, "lmtest", "get_user", "k3", name, sizeof name));
	int w = lm_test_where(srv, 2, name);
	cr_assert_geq(w, 0);
	/* Stall k3's server until a call fails: it is then in backoff, and
	 * the drop below is never sent. */
	kill(srv[w].pid, SIGSTOP);
	cr_assert(LM_WAIT_FOR(lm_test_get(a.l2, M_USER, "k3", v, sizeof v) == LM_L2_DOWN, 3000));
	lm_l2_drop_key(a.l2, M_USER, "k3", 2);
	kill(srv[w].pid, SIGCONT);
	cr_expect_geq(lm_test_where(srv, 2, name), 0, "the entry itself was not deleted");
	cr_expect(LM_WAIT_FOR(lm_test_get(a.l2, M_USER, "k3", v, sizeof v) == LM_L2_MISS, 8000));
	cr_expect(LM_WAIT_FOR(lm_test_get(b.l2, M_USER, "k3", v, sizeof v) == LM_L2_MISS, 3000),
	          "other instances stop reading it too");
	cr_expect_eq(lm_test_get(b.l2, M_USER, "k4", v, sizeof v), LM_L2_MISS,
	             "a drop of all: every entry");
}
