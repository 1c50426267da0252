/* The memcached tier against two real servers: values round-trip, spread
 * over both, are shared between instances and with a forked child; drops
 * reach other instances; the size, key and TTL limits hold. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "shim/tier/l2_internal.h"

static struct lm_test_mc srv[2];
static struct lm_test_l2 a, b;

static void setup(void)
{
	/* These tests are about what comes back, not about deadlines
	 * (test_failure.c): on a loaded 2-core machine a 50 ms deadline
	 * failed a "set" now and then. */
	lm_test_mc_deadline_ms = 1000;
	cr_assert(lm_test_mc_start(&srv[0]), "memcached starts");
	cr_assert(lm_test_mc_start(&srv[1]), "memcached starts");
	cr_assert_not_null(lm_test_l2_open(&a, srv, 2, NULL, 200));
	cr_assert_not_null(lm_test_l2_open(&b, srv, 2, NULL, 200));
}

static void teardown(void)
{
	lm_test_l2_close(&a);
	lm_test_l2_close(&b);
	lm_test_mc_kill(&srv[0]);
	lm_test_mc_kill(&srv[1]);
}

TestSuite(mc_roundtrip, .init = setup, .fini = teardown, .timeout = 30);

Test(mc_roundtrip, a_stored_value_comes_back)
{
	char v[64];
	cr_expect_eq(lm_test_get(a.l2, M_USER, "alice", v, sizeof v), LM_L2_MISS);
	cr_expect_eq(lm_test_set(a.l2, M_USER, "alice", "uid=1000", 60000), LM_L2_HIT);
	cr_expect_eq(lm_test_get(a.l2, M_USER, "alice", v, sizeof v), LM_L2_HIT);
	cr_expect_str_eq(v, "uid=1000");
	cr_expect_eq(lm_test_get(a.l2, M_LOOKUP, "alice", v, sizeof v), LM_L2_MISS,
	             "another method's key names differ");
}

Test(mc_roundtrip, keys_spread_over_both_servers)
{
	int on[2] = {0, 0};
	char key[32], name[512];
	for (int i = 0; i < 64; i++) {
		snprintf(key, sizeof key, "key-%d", i);
		cr_assert_eq(lm_test_set(a.l2, M_USER, key, "v", 60000), LM_L2_HIT);
	}
	for (int i = 0; i < 64; i++) {
		snprintf(key, sizeof key, "key-%d", i);
		cr_assert(lm_test_data_key(srv, 2, "lmtest", "get_user", key, name, sizeof name));
		int w = lm_test_where(srv, 2, name);
		cr_assert(w >= 0, "%s is on a server", key);
		on[w]++;
	}
	cr_expect_gt(on[0], 0);
	cr_expect_gt(on[1], 0);
	cr_expect_gt(lm_test_mc_stat(srv[0].port, "curr_items"), 0);
	cr_expect_gt(lm_test_mc_stat(srv[1].port, "curr_items"), 0);
}

Test(mc_roundtrip, another_instance_reads_what_one_stored)
{
	char v[64];
	cr_assert_eq(lm_test_set(a.l2, M_USER, "bob", "uid=1001", 60000), LM_L2_HIT);
	cr_expect_eq(lm_test_get(b.l2, M_USER, "bob", v, sizeof v), LM_L2_HIT);
	cr_expect_str_eq(v, "uid=1001");
}

Test(mc_roundtrip, a_dropped_key_is_gone_for_every_instance)
{
	char v[64];
	cr_assert_eq(lm_test_set(a.l2, M_USER, "carol", "1", 60000), LM_L2_HIT);
	cr_assert_eq(lm_test_set(a.l2, M_USER, "dave", "2", 60000), LM_L2_HIT);
	cr_assert_eq(lm_test_get(b.l2, M_USER, "carol", v, sizeof v), LM_L2_HIT);
	lm_l2_drop_key(a.l2, M_USER, "carol", 5);
	cr_expect_eq(lm_test_get(b.l2, M_USER, "carol", v, sizeof v), LM_L2_MISS);
	cr_expect_eq(lm_test_get(a.l2, M_USER, "carol", v, sizeof v), LM_L2_MISS);
	cr_expect_eq(lm_test_get(b.l2, M_USER, "dave", v, sizeof v), LM_L2_HIT,
	             "only the exact key is dropped");
}

Test(mc_roundtrip, a_method_drop_reaches_other_instances_within_l1_ttl)
{
	char v[64];
	cr_assert_eq(lm_test_set(a.l2, M_USER, "erin", "1", 60000), LM_L2_HIT);
	cr_assert_eq(lm_test_set(a.l2, M_LOOKUP, "erin", "2", 60000), LM_L2_HIT);
	cr_assert_eq(lm_test_get(b.l2, M_USER, "erin", v, sizeof v), LM_L2_HIT);
	lm_l2_drop_method(a.l2, M_USER);
	cr_expect_eq(lm_test_get(a.l2, M_USER, "erin", v, sizeof v), LM_L2_MISS,
	             "the dropping instance sees it at once");
	cr_expect(LM_WAIT_FOR(lm_test_get(b.l2, M_USER, "erin", v, sizeof v) == LM_L2_MISS, 3000));
	cr_expect_eq(lm_test_get(b.l2, M_LOOKUP, "erin", v, sizeof v), LM_L2_HIT,
	             "other methods keep their entries");
}

Test(mc_roundtrip, drop_all_drops_every_method)
{
	char v[64];
	cr_assert_eq(lm_test_set(a.l2, M_USER, "frank", "1", 60000), LM_L2_HIT);
	cr_assert_eq(lm_test_set(a.l2, M_LOOKUP, "frank", "2", 60000), LM_L2_HIT);
	lm_l2_drop_all(b.l2);
	cr_expect_eq(lm_test_get(b.l2, M_USER, "frank", v, sizeof v), LM_L2_MISS);
	cr_expect_eq(lm_test_get(b.l2, M_LOOKUP, "frank", v, sizeof v), LM_L2_MISS);
	cr_expect(
	    LM_WAIT_FOR(lm_test_get(a.l2, M_LOOKUP, "frank", v, sizeof v) == LM_L2_MISS, 3000));
}

Test(mc_roundtrip, a_forked_child_shares_the_tier_on_its_own_connections)
{
	char v[64];
	cr_assert_eq(lm_test_set(a.l2, M_USER, "gina", "parent", 60000), LM_L2_HIT);
	cr_assert_eq(lm_test_get(a.l2, M_USER, "gina", v, sizeof v), LM_L2_HIT);
	long before = lm_test_mc_stat(srv[0].port, "total_connections") +
	              lm_test_mc_stat(srv[1].port, "total_connections");
	pid_t pid = fork();
	if (pid == 0) {
		alarm(30); /* a hung child fails the test instead of outliving it */
		int rc = lm_test_get(a.l2, M_USER, "gina", v, sizeof v) == LM_L2_HIT &&
		                 strcmp(v, "parent") == 0
		             ? 0
		             : 1;
		if (lm_test_set(a.l2, M_USER, "hank", "child", 60000) != LM_L2_HIT)
			rc |= 2;
		lm_test_l2_close(&a);
		_exit(rc);
	}
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
	long after = lm_test_mc_stat(srv[0].port, "total_connections") +
	             lm_test_mc_stat(srv[1].port, "total_connections");
	/* Two stats connections of ours, and at least one of the child's. */
	cr_expect_geq(after - before, 3, "the child dialled its own connections");
	cr_expect_eq(lm_test_get(a.l2, M_USER, "hank", v, sizeof v), LM_L2_HIT);
	cr_expect_str_eq(v, "child");
	cr_expect_eq(lm_test_get(a.l2, M_USER, "gina", v, sizeof v), LM_L2_HIT,
	             "the parent's connections survive the child");
}

Test(mc_roundtrip, values_above_the_item_limit_stay_local)
{
	size_t big = 2u << 20, fits = 900u << 10;
	char *val = malloc(big);
	memset(val, 'x', big);
	struct lm_buf out = {0};
	cr_expect_eq(lm_l2_set(a.l2, M_USER, "big", 3, val, big, 60000), LM_L2_MISS);
	cr_expect_eq(lm_l2_get(a.l2, M_USER, "big", 3, &out), LM_L2_MISS);
	cr_expect_eq(lm_l2_set(a.l2, M_USER, "fits", 4, val, fits, 60000), LM_L2_HIT);
	cr_expect_eq(lm_l2_get(b.l2, M_USER, "fits", 4, &out), LM_L2_HIT);
	cr_expect_eq(out.len, fits);
	lm_buf_free(&out);
	free(val);
}

Test(mc_roundtrip, local_only_methods_are_never_sent)
{
	char v[64];
	long items =
	    lm_test_mc_stat(srv[0].port, "curr_items") + lm_test_mc_stat(srv[1].port, "curr_items");
	cr_expect_eq(lm_test_set(a.l2, M_LOCAL, "p", "0x1234", 60000), LM_L2_MISS);
	cr_expect_eq(lm_test_get(a.l2, M_LOCAL, "p", v, sizeof v), LM_L2_MISS);
	cr_expect_eq(lm_test_mc_stat(srv[0].port, "curr_items") +
	                 lm_test_mc_stat(srv[1].port, "curr_items"),
	             items);
}

Test(mc_roundtrip, key_names_past_250_bytes_are_hashed)
{
	char ns[301], v[64], name[512];
	memset(ns, 'n', 300);
	ns[300] = 0;
	struct lm_test_l2 l;
	cr_assert_not_null(lm_test_l2_open(&l, srv, 2, ns, 200));
	cr_expect_eq(lm_test_set(l.l2, M_USER, "ivan", "long", 60000), LM_L2_HIT);
	cr_expect_eq(lm_test_get(l.l2, M_USER, "ivan", v, sizeof v), LM_L2_HIT);
	cr_expect_str_eq(v, "long");
	cr_assert(lm_test_data_key(srv, 2, ns, "get_user", "ivan", name, sizeof name));
	cr_expect_leq(strlen(name), 250);
	cr_expect_geq(lm_test_where(srv, 2, name), 0, "stored under the hashed name %s", name);
	lm_test_l2_close(&l);
}

/* exp= of KEY in a server's metadump, or -2 when it is not listed. */
static long dumped_exp(int port, const char *key)
{
	static char reply[1 << 20];
	const char *cmd = "lru_crawler metadump all\r\n";
	char want[1024] = "key=";
	size_t n = 4;
	/* metadump URI-encodes keys */
	for (const char *k = key; *k && n + 4 < sizeof want; k++) {
		if (isalnum((unsigned char)*k) || strchr("-._~", *k))
			want[n++] = *k;
		else
			n += (size_t)snprintf(want + n, 4, "%%%02X", (unsigned char)*k);
	}
	snprintf(want + n, sizeof want - n, " exp=");
	for (int tries = 0; tries < 100; tries++) {
		if (lm_test_mc_raw(port, cmd, strlen(cmd), false, reply, sizeof reply) > 0) {
			char *s = strstr(reply, want);
			if (s)
				return strtol(s + strlen(want), NULL, 10);
		}
		usleep(20000); /* the crawler may be busy */
	}
	return -2;
}

Test(mc_roundtrip, a_ttl_past_30_days_is_stored_as_an_absolute_time)
{
	char v[64], name[512];
	int64_t forty_days = 40LL * 24 * 3600 * 1000;
	cr_assert_eq(lm_test_set(a.l2, M_USER, "judy", "long-lived", forty_days), LM_L2_HIT);
	/* Sent as a relative 3456000 s, memcached would read 1970: gone. */
	cr_expect_eq(lm_test_get(b.l2, M_USER, "judy", v, sizeof v), LM_L2_HIT);
	cr_assert(lm_test_data_key(srv, 2, "lmtest", "get_user", "judy", name, sizeof name));
	int w = lm_test_where(srv, 2, name);
	cr_assert_geq(w, 0);
	long exp = dumped_exp(srv[w].port, name);
	long want = (long)time(NULL) + 40L * 24 * 3600;
	cr_expect(exp > want - 120 && exp < want + 120, "exp=%ld, want about %ld", exp, want);
}

Test(mc_roundtrip, entries_expire_with_their_ttl)
{
	char v[64];
	cr_assert_eq(lm_test_set(a.l2, M_USER, "kim", "short", 300), LM_L2_HIT);
	cr_expect(LM_WAIT_FOR(lm_test_get(b.l2, M_USER, "kim", v, sizeof v) == LM_L2_MISS, 3000),
	          "a 300 ms entry is gone within seconds, whatever memcached's rounding");
}

Test(mc_roundtrip, the_l1_lifetime_never_outlives_the_entry_or_l1_ttl)
{
	struct lm_buf out = {0};
	int64_t l1 = -1;
	cr_assert_eq(lm_test_set(a.l2, M_USER, "lee", "x", 60000), LM_L2_HIT);
	cr_assert_eq(lm_l2_get_ttl(b.l2, M_USER, "lee", 3, &out, &l1), LM_L2_HIT);
	cr_expect(l1 > 0 && l1 <= 200, "capped by l1_ttl: %lld", (long long)l1);
	cr_assert_eq(lm_test_set(a.l2, M_USER, "max", "x", 100), LM_L2_HIT);
	if (lm_l2_get_ttl(b.l2, M_USER, "max", 3, &out, &l1) == LM_L2_HIT)
		cr_expect(l1 > 0 && l1 <= 100, "capped by the entry's TTL: %lld", (long long)l1);
	lm_buf_free(&out);
}

static void *hammer(void *arg)
{
	long id = (long)arg, bad = 0;
	char key[32], val[32], v[64];
	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof key, "t%ld-%d", id, i % 20);
		snprintf(val, sizeof val, "%ld:%d", id, i % 20);
		if (lm_test_set(a.l2, M_LOOKUP, key, val, 60000) != LM_L2_HIT)
			bad++;
		else if (lm_test_get(a.l2, M_LOOKUP, key, v, sizeof v) != LM_L2_HIT ||
		         strcmp(v, val))
			bad++;
	}
	return (void *)bad;
}

Test(mc_roundtrip, threads_share_one_instance)
{
	pthread_t t[4];
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, hammer, (void *)i);
	for (int i = 0; i < 4; i++) {
		void *bad;
		pthread_join(t[i], &bad);
		cr_expect_eq((long)bad, 0, "thread %d", i);
	}
}
