/* Invalidation: drops remove entries and refuse fills of misses that
 * looked up before them; waiters never join pre-drop markers. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "helpers.h"

static struct lm_store *s;

static void setup(void)
{
	s = lm_test_store(1000, 1 << 20, 2, NULL);
}

static void teardown(void)
{
	lm_store_free(s);
}

static enum lm_lookup begin(struct lm_store_req *r, uint32_t m, const char *key)
{
	*r = lm_test_req(m, key);
	struct lm_entry *e, *st;
	bool co;
	return lm_store_lookup(s, r, &e, &co, &st);
}

TestSuite(store_gen, .init = setup, .fini = teardown);

Test(store_gen, fill_after_drop_key_is_refused)
{
	struct lm_store_req r;
	cr_assert_eq(begin(&r, 0, "k"), LM_LOOKUP_MISS);
	lm_store_drop_key(s, 0, r.hash, "k", 1);
	cr_expect_eq(lm_store_fill(s, &r, "v", 1, 1000), 0);
	cr_expect_eq(lm_test_get(s, 0, "k", NULL, 0), LM_LOOKUP_MISS);
}

Test(store_gen, fill_after_drop_method_is_refused_other_method_unaffected)
{
	struct lm_store_req r0, r1;
	cr_assert_eq(begin(&r0, 0, "k"), LM_LOOKUP_MISS);
	cr_assert_eq(begin(&r1, 1, "k"), LM_LOOKUP_MISS);
	lm_store_drop_method(s, 0);
	cr_expect_eq(lm_store_fill(s, &r0, "v", 1, 1000), 0);
	cr_expect_eq(lm_store_fill(s, &r1, "v", 1, 1000), 1);
}

Test(store_gen, fill_after_drop_all_is_refused)
{
	struct lm_store_req r;
	cr_assert_eq(begin(&r, 1, "k"), LM_LOOKUP_MISS);
	lm_store_drop_all(s);
	cr_expect_eq(lm_store_fill(s, &r, "v", 1, 1000), 0);
}

static bool starts_with_a(const void *key, uint32_t klen, void *arg)
{
	(void)arg;
	return klen > 0 && ((const char *)key)[0] == 'a';
}

Test(store_gen, drop_match_removes_matching_and_refuses_inflight)
{
	cr_assert_eq(lm_test_set(s, 0, "apple", "1", 1000), 1);
	cr_assert_eq(lm_test_set(s, 0, "avocado", "1", 1000), 1);
	cr_assert_eq(lm_test_set(s, 0, "banana", "1", 1000), 1);
	cr_assert_eq(lm_test_set(s, 1, "apricot", "1", 1000), 1);
	struct lm_store_req r;
	cr_assert_eq(begin(&r, 0, "berry"), LM_LOOKUP_MISS);
	cr_expect_eq(lm_store_drop_match(s, 0, starts_with_a, NULL), 2);
	cr_expect_eq(lm_store_fill(s, &r, "v", 1, 1000), 0);
	cr_expect_eq(lm_test_get(s, 0, "apple", NULL, 0), LM_LOOKUP_MISS);
	cr_expect_eq(lm_test_get(s, 0, "banana", NULL, 0), LM_LOOKUP_HIT);
	cr_expect_eq(lm_test_get(s, 1, "apricot", NULL, 0), LM_LOOKUP_HIT);
	struct lm_store_mstats ms;
	lm_store_method_stats(s, 0, &ms);
	cr_expect_eq(ms.invalidated, 2);
	cr_expect_eq(ms.entries, 1);
}

Test(store_gen, drops_return_counts_and_keep_gauges_honest)
{
	char k[16];
	for (int i = 0; i < 30; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		cr_assert_eq(lm_test_set(s, i % 2, k, "v", 1000), 1);
	}
	cr_expect_eq(lm_store_drop_method(s, 1), 15);
	uint64_t n, b;
	lm_store_totals(s, &n, &b);
	cr_expect_eq(n, 15);
	cr_expect_eq(lm_store_drop_all(s), 15);
	lm_store_totals(s, &n, &b);
	cr_expect_eq(n, 0);
	cr_expect_eq(b, 0);
}

Test(store_gen, fill_after_drop_of_unrelated_key_in_other_shard_is_kept)
{
	struct lm_store_req r;
	cr_assert_eq(begin(&r, 0, "k"), LM_LOOKUP_MISS);
	lm_store_drop_key(s, 1, lm_test_hash("zz", 2), "zz", 2);
	/* Same or other shard: a key drop may refuse (shard generation) but
	 * must not remove anything else. */
	lm_store_fill(s, &r, "v", 1, 1000);
	cr_assert_eq(lm_test_set(s, 0, "other", "v", 1000), 1);
	cr_expect_eq(lm_test_get(s, 0, "other", NULL, 0), LM_LOOKUP_HIT);
}

Test(store_gen, waiter_never_joins_pre_drop_marker)
{
	struct lm_store_req owner = lm_test_req(0, "k");
	owner.coalesce = true;
	struct lm_entry *e, *st;
	bool co;
	cr_assert_eq(lm_store_lookup(s, &owner, &e, &co, &st), LM_LOOKUP_MISS);
	cr_assert_not_null(owner.pending);
	lm_store_drop_method(s, 0);
	/* Same thread would be RECURSE if it joined; after the drop it must
	 * become a fresh miss of its own instead. */
	struct lm_store_req next = lm_test_req(0, "k");
	next.coalesce = true;
	cr_expect_eq(lm_store_lookup(s, &next, &e, &co, &st), LM_LOOKUP_MISS);
	cr_expect_not_null(next.pending);
	cr_expect_eq(lm_store_fill(s, &owner, "old", 3, 1000), 0);
	cr_expect_eq(lm_store_fill(s, &next, "new", 3, 1000), 1);
	char buf[8];
	cr_expect_eq(lm_test_get(s, 0, "k", buf, sizeof(buf)), LM_LOOKUP_HIT);
	cr_expect_str_eq(buf, "new");
}

static bool always(const void *key, uint32_t klen, void *arg)
{
	(void)key, (void)klen, (void)arg;
	return true;
}

/* Copies kept outside the store (the front cache, the fast table) check
 * one counter per method: every kind of drop must move it, and only for
 * the methods it can remove entries of. */
Test(store_gen, every_drop_moves_the_copy_epoch_of_its_methods)
{
	uint64_t e0 = lm_store_copy_epoch_now(s, 0), e1 = lm_store_copy_epoch_now(s, 1);
	cr_assert_eq(lm_test_set(s, 0, "k", "v", 1000), 1);
	cr_expect_eq(lm_store_copy_epoch_now(s, 0), e0, "a fill is not a drop");

	lm_store_drop_key(s, 0, lm_test_hash("x", 1), "x", 1);
	cr_expect_gt(lm_store_copy_epoch_now(s, 0), e0, "drop_key, even of an absent key");
	cr_expect_eq(lm_store_copy_epoch_now(s, 1), e1, "another method's copies stay");
	e0 = lm_store_copy_epoch_now(s, 0);

	lm_store_drop_match(s, 1, always, NULL);
	cr_expect_gt(lm_store_copy_epoch_now(s, 1), e1, "drop_match");
	cr_expect_eq(lm_store_copy_epoch_now(s, 0), e0);
	e1 = lm_store_copy_epoch_now(s, 1);

	lm_store_drop_method(s, 0);
	cr_expect_gt(lm_store_copy_epoch_now(s, 0), e0, "drop_method");
	cr_expect_eq(lm_store_copy_epoch_now(s, 1), e1);
	e0 = lm_store_copy_epoch_now(s, 0);

	lm_store_drop_all(s);
	cr_expect_gt(lm_store_copy_epoch_now(s, 0), e0, "drop_all, method 0");
	cr_expect_gt(lm_store_copy_epoch_now(s, 1), e1, "drop_all, method 1");
}
