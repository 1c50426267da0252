/* Drops and cross-process invalidation: what one instance drops, another
 * stops reading, and its L1 is told through the tracking channel. */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static struct lm_test_redis srv;
static struct lm_test_l2 a, b;

static void setup(void)
{
	cr_assert(lm_test_redis_start(&srv), "redis-server did not start");
	cr_assert_not_null(lm_test_l2_open(&a, &srv, true, 0x1111));
	cr_assert_not_null(lm_test_l2_open(&b, &srv, false, 0x1111));
}

static void teardown(void)
{
	lm_test_l2_close(&a);
	lm_test_l2_close(&b);
	lm_test_redis_stop(&srv);
}

TestSuite(redis_invalidation, .init = setup, .fini = teardown);

static enum lm_l2_result get(struct lm_test_l2 *x, uint32_t m, const char *k)
{
	char buf[64];
	return lm_test_get(x->l2, m, k, buf, sizeof buf);
}

/* B's invalidation link is subscribed (its first subscription empties
 * L1) and its data connection tracks the namespace (set up on use). */
static void b_listening(void)
{
	get(&b, M_LOOKUP, "warm-up");
	cr_assert(LM_WAIT_FOR(lm_test_seen(&b).all >= 1, 2000), "no subscription");
	get(&b, M_LOOKUP, "warm-up");
}

Test(redis_invalidation, drop_key_is_seen_by_another_instance)
{
	cr_assert_eq(lm_test_set(a.l2, M_USER, "alice", "1", 60000), LM_L2_HIT);
	cr_assert_eq(lm_test_set(a.l2, M_USER, "bob", "2", 60000), LM_L2_HIT);
	cr_expect_eq(get(&b, M_USER, "alice"), LM_L2_HIT);
	lm_l2_drop_key(a.l2, M_USER, "alice", 5);
	cr_expect_eq(get(&b, M_USER, "alice"), LM_L2_MISS);
	cr_expect_eq(get(&b, M_USER, "bob"), LM_L2_HIT);
}

Test(redis_invalidation, drop_method_is_seen_by_another_instance)
{
	b_listening();
	cr_assert_eq(lm_test_set(a.l2, M_USER, "alice", "1", 60000), LM_L2_HIT);
	cr_assert_eq(lm_test_set(a.l2, M_LOOKUP, "alice", "x", 60000), LM_L2_HIT);
	cr_expect_eq(get(&b, M_USER, "alice"), LM_L2_HIT);
	lm_l2_drop_method(a.l2, M_USER);
	cr_expect_eq(get(&a, M_USER, "alice"), LM_L2_MISS, "the dropper itself");
	cr_expect(LM_WAIT_FOR(get(&b, M_USER, "alice") == LM_L2_MISS, 2000));
	cr_expect(LM_WAIT_FOR(lm_test_seen(&b).method[M_USER] >= 1, 2000), "B's L1 was not told");
	cr_expect_eq(get(&b, M_LOOKUP, "alice"), LM_L2_HIT, "another method stays");
	cr_assert_eq(lm_test_set(a.l2, M_USER, "alice", "new", 60000), LM_L2_HIT);
	char buf[64];
	cr_expect(
	    LM_WAIT_FOR(lm_test_get(b.l2, M_USER, "alice", buf, sizeof buf) == LM_L2_HIT, 2000));
	cr_expect_str_eq(buf, "new");
}

Test(redis_invalidation, drop_all_is_seen_by_another_instance)
{
	b_listening();
	int before = lm_test_seen(&b).all;
	cr_assert_eq(lm_test_set(a.l2, M_USER, "alice", "1", 60000), LM_L2_HIT);
	cr_assert_eq(lm_test_set(a.l2, M_LOOKUP, "q", "x", 60000), LM_L2_HIT);
	lm_l2_drop_all(a.l2);
	cr_expect_eq(get(&a, M_USER, "alice"), LM_L2_MISS);
	cr_expect(LM_WAIT_FOR(get(&b, M_USER, "alice") == LM_L2_MISS, 2000));
	cr_expect(LM_WAIT_FOR(get(&b, M_LOOKUP, "q") == LM_L2_MISS, 2000));
	cr_expect(LM_WAIT_FOR(lm_test_seen(&b).all > before, 2000), "B's L1 was not emptied");
}

Test(redis_invalidation, a_write_by_another_client_drops_exactly_that_key)
{
	b_listening();
	cr_assert_eq(get(&b, M_USER, "zed"), LM_L2_MISS); /* B may now hold "zed" in L1 */
	char name[256];
	lm_test_name("get_user", "zed", name, sizeof name);
	redisContext *raw = lm_test_redis_raw(&srv);
	freeReplyObject(redisCommand(raw, "SET %s whatever", name));
	cr_assert(LM_WAIT_FOR(lm_test_seen(&b).key[M_USER] >= 1, 2000), "no invalidation");
	struct lm_test_inval s = lm_test_seen(&b);
	cr_expect_str_eq(s.last_key, "zed");
	cr_expect_eq(s.method[M_USER], 0, "not the whole method");

	/* A DEL too, once B read the key again. */
	get(&b, M_USER, "zed");
	freeReplyObject(redisCommand(raw, "DEL %s", name));
	cr_expect(LM_WAIT_FOR(lm_test_seen(&b).key[M_USER] >= 2, 2000), "DEL not seen");
	redisFree(raw);
}

Test(redis_invalidation, keys_this_process_never_read_drop_nothing)
{
	b_listening();
	struct lm_test_inval before = lm_test_seen(&b);
	char name[256];
	lm_test_name("get_user", "never-read", name, sizeof name);
	redisContext *raw = lm_test_redis_raw(&srv);
	freeReplyObject(redisCommand(raw, "SET %s v", name));
	/* A key B did read, written after: its drop proves the first was
	 * delivered (messages arrive in order). */
	get(&b, M_USER, "marker");
	lm_test_name("get_user", "marker", name, sizeof name);
	freeReplyObject(redisCommand(raw, "SET %s v", name));
	cr_assert(LM_WAIT_FOR(lm_test_seen(&b).key[M_USER] > before.key[M_USER], 2000));
	struct lm_test_inval s = lm_test_seen(&b);
	cr_expect_eq(s.key[M_USER], before.key[M_USER] + 1);
	cr_expect_str_eq(s.last_key, "marker");
	cr_expect_eq(s.method[M_USER], before.method[M_USER]);
	cr_expect_eq(s.all, before.all);
	redisFree(raw);
}

Test(redis_invalidation, a_generation_bump_or_flushall_by_another_client_is_seen)
{
	b_listening();
	redisContext *raw = lm_test_redis_raw(&srv);
	freeReplyObject(redisCommand(raw, "INCR lmtest:#gen:lookup"));
	cr_expect(LM_WAIT_FOR(lm_test_seen(&b).method[M_LOOKUP] >= 1, 2000));
	int all = lm_test_seen(&b).all;
	freeReplyObject(redisCommand(raw, "FLUSHALL"));
	cr_expect(LM_WAIT_FOR(lm_test_seen(&b).all > all, 2000), "FLUSHALL not seen");
	redisFree(raw);
}
