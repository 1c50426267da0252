/* max_entries, max_memory and per-method bounds hold at every step;
 * evictions are counted. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

static void check_bounds(struct lm_store *s, uint64_t max_e, uint64_t max_m, uint32_t nm,
                         const uint64_t *mmax)
{
	uint64_t n, b, sum_e = 0, sum_b = 0;
	lm_store_totals(s, &n, &b);
	cr_assert_leq(n, max_e);
	cr_assert_leq(b, max_m);
	for (uint32_t m = 0; m < nm; m++) {
		struct lm_store_mstats ms;
		lm_store_method_stats(s, m, &ms);
		if (mmax && mmax[m])
			cr_assert_leq(ms.entries, mmax[m], "method %u over its bound", m);
		sum_e += ms.entries;
		sum_b += ms.bytes;
	}
	cr_assert_eq(sum_e, n);
	cr_assert_eq(sum_b, b);
}

Test(store_bounds, hold_at_every_step_under_random_inserts)
{
	const uint64_t max_e = 300, max_m = 40000;
	const uint64_t mmax[3] = {0, 50, 0};
	struct lm_store *s = lm_test_store(max_e, max_m, 3, mmax);
	srand(7);
	char k[32], v[256];
	int stored = 0;
	for (int i = 0; i < 5000; i++) {
		uint32_t m = (uint32_t)(rand() % 3);
		snprintf(k, sizeof(k), "key-%d", rand() % 2000);
		int vl = rand() % 200;
		memset(v, 'a' + m, (size_t)vl);
		v[vl] = 0;
		int r = lm_test_set(s, m, k, v, rand() % 4 ? LM_DUR_NEVER : 5);
		if (r == 1)
			stored++;
		if (i % 100 == 0)
			lm_test_now += 3;
		check_bounds(s, max_e, max_m, 3, mmax);
	}
	cr_expect_gt(stored, 4000, "most inserts should be stored, got %d", stored);
	uint64_t evicted = 0;
	for (uint32_t m = 0; m < 3; m++) {
		struct lm_store_mstats ms;
		lm_store_method_stats(s, m, &ms);
		evicted += ms.evicted + ms.expired;
	}
	cr_expect_gt(evicted, 0);
	lm_store_free(s);
}

Test(store_bounds, eviction_counts_match_inserts)
{
	struct lm_store *s = lm_test_store(100, 1 << 20, 1, NULL);
	char k[32];
	for (int i = 0; i < 250; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		cr_assert_eq(lm_test_set(s, 0, k, "value", LM_DUR_NEVER), 1);
	}
	struct lm_store_mstats ms;
	lm_store_method_stats(s, 0, &ms);
	cr_expect_eq(ms.entries, 100);
	cr_expect_eq(ms.evicted, 150);
	lm_store_free(s);
}

Test(store_bounds, memory_bound_counts_key_value_and_overhead)
{
	struct lm_store *s = lm_test_store(1000, 4096, 1, NULL);
	char k[32], v[200];
	memset(v, 'x', sizeof(v) - 1);
	v[sizeof(v) - 1] = 0;
	for (int i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		lm_test_set(s, 0, k, v, LM_DUR_NEVER);
		uint64_t n, b;
		lm_store_totals(s, &n, &b);
		cr_assert_leq(b, 4096);
		cr_assert_geq(b, n * (sizeof(v) - 1 + 2));
	}
	uint64_t n, b;
	lm_store_totals(s, &n, &b);
	cr_expect_gt(n, 5);
	cr_expect_lt(n, 4096 / 200 + 1);
	lm_store_free(s);
}

Test(store_bounds, oversized_value_is_not_stored)
{
	struct lm_store *s = lm_test_store(1000, 1024, 1, NULL);
	char v[2048];
	memset(v, 'x', sizeof(v) - 1);
	v[sizeof(v) - 1] = 0;
	cr_expect_eq(lm_test_set(s, 0, "big", v, LM_DUR_NEVER), 0);
	lm_store_free(s);
}

Test(store_bounds, per_method_bound_evicts_same_method)
{
	const uint64_t mmax[2] = {10, 0};
	struct lm_store *s = lm_test_store(1000, 1 << 20, 2, mmax);
	char k[32];
	for (int i = 0; i < 20; i++) {
		snprintf(k, sizeof(k), "other%d", i);
		cr_assert_eq(lm_test_set(s, 1, k, "v", LM_DUR_NEVER), 1);
	}
	for (int i = 0; i < 50; i++) {
		snprintf(k, sizeof(k), "capped%d", i);
		cr_expect_eq(lm_test_set(s, 0, k, "v", LM_DUR_NEVER), 1);
	}
	struct lm_store_mstats m0, m1;
	lm_store_method_stats(s, 0, &m0);
	lm_store_method_stats(s, 1, &m1);
	cr_expect_eq(m0.entries, 10);
	cr_expect_eq(m0.evicted, 40);
	cr_expect_eq(m1.entries, 20, "another method's entries were evicted");
	cr_expect_eq(m1.evicted, 0);
	lm_store_free(s);
}
