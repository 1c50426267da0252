/* A store's shards are prepared at their first use: making a store
 * touches none of their pages (start-up pays no page fault for them), and
 * a store whose shards were never used answers every operation. */
#include <criterion/criterion.h>
#include <sys/resource.h>

#include "helpers.h"

static long faults(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static void count(const struct lm_entry *e, void *arg)
{
	(void)e;
	++*(int *)arg;
}

/* 1,024 shards are 48 pages: each was written when the store was made. */
Test(store_shards, a_new_store_touches_no_shard_until_used)
{
	struct lm_store_cfg cfg = {
	    .max_entries = 1 << 20,
	    .max_memory = 1 << 30,
	    .nmethods = 2,
	    .nshards = 1024,
	    .now_ms = lm_test_clock,
	    .hash = lm_test_key_hash,
	};
	long before = faults();
	struct lm_store *s = lm_store_new(&cfg);
	long made = faults() - before;
	cr_assert_not_null(s);
	cr_expect_lt(made, 16, "making the store took %ld page faults", made);

	char buf[64];
	int n = 0;
	cr_expect_eq(lm_test_get(s, 0, "k", buf, sizeof buf), LM_LOOKUP_MISS);
	/* a walk (a persisted cache's save, a dump) skips the shards never
	 * used */
	before = faults();
	lm_store_each(s, count, &n);
	cr_expect_lt(faults() - before, 4, "a walk took %ld page faults", faults() - before);
	cr_expect_eq(n, 0);
	cr_expect_eq(lm_store_drop_method(s, 1), 0);
	cr_expect_eq(lm_store_drop_all(s), 0);
	lm_store_each(s, count, &n);
	cr_expect_eq(n, 0);
	cr_expect_eq(lm_test_set(s, 1, "k", "one", 1000), 1);
	cr_expect_eq(lm_test_get(s, 1, "k", buf, sizeof buf), LM_LOOKUP_HIT);
	cr_expect_str_eq(buf, "one");
	cr_expect_eq(lm_test_get(s, 0, "k", buf, sizeof buf), LM_LOOKUP_MISS);
	lm_store_each(s, count, &n);
	cr_expect_eq(n, 1);
	cr_expect_eq(lm_store_drop_method(s, 1), 1);
	lm_store_free(s);
}
