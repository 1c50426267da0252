/* Pending markers of coalesced misses: reuse without malloc, wake-ups only
 * for markers that waiters hold, and no wake-up lost in between. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <unistd.h>

#include "helpers.h"

static struct lm_store *ps;
static pthread_barrier_t pbar;

Test(store_pending, finished_marker_is_reused_by_next_miss)
{
	ps = lm_test_store(100, 1 << 20, 1, NULL);
	struct lm_entry *e, *st;
	bool co;
	struct lm_store_req a = lm_test_req(0, "a");
	a.coalesce = true;
	cr_assert_eq(lm_store_lookup(ps, &a, &e, &co, &st), LM_LOOKUP_MISS);
	void *first = a.pending;
	cr_assert_not_null(first);
	lm_store_abandon(ps, &a);
	/* ttl 0: nothing stored, the marker goes back all the same. */
	for (int i = 0; i < 3; i++) {
		struct lm_store_req b = lm_test_req(0, "a");
		b.coalesce = true;
		cr_assert_eq(lm_store_lookup(ps, &b, &e, &co, &st), LM_LOOKUP_MISS);
		cr_expect_eq(b.pending, first, "miss %d got a fresh marker", i);
		cr_expect_eq(lm_store_fill(ps, &b, "v", 1, 0), 0);
	}
	lm_store_free(ps);
}

Test(store_pending, concurrent_misses_get_distinct_markers)
{
	ps = lm_test_store(100, 1 << 20, 1, NULL);
	struct lm_entry *e, *st;
	bool co;
	struct lm_store_req a = lm_test_req(0, "a"), b = lm_test_req(0, "b");
	a.coalesce = b.coalesce = true;
	cr_assert_eq(lm_store_lookup(ps, &a, &e, &co, &st), LM_LOOKUP_MISS);
	cr_assert_eq(lm_store_lookup(ps, &b, &e, &co, &st), LM_LOOKUP_MISS);
	cr_expect_neq(a.pending, b.pending);
	lm_store_fill(ps, &a, "1", 1, LM_DUR_NEVER);
	lm_store_fill(ps, &b, "2", 1, LM_DUR_NEVER);
	char out[8];
	cr_expect_eq(lm_test_get(ps, 0, "a", out, sizeof(out)), LM_LOOKUP_HIT);
	cr_expect_str_eq(out, "1");
	cr_expect_eq(lm_test_get(ps, 0, "b", out, sizeof(out)), LM_LOOKUP_HIT);
	cr_expect_str_eq(out, "2");
	lm_store_free(ps);
}

/* Longer than a recyclable marker's key room. */
static char long_key[200];
static _Atomic int lk_calls, lk_hits, lk_coalesced;

static void *long_key_worker(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&pbar);
	struct lm_store_req r = lm_test_req(0, long_key);
	r.coalesce = true;
	struct lm_entry *e, *st;
	bool co;
	enum lm_lookup res = lm_store_lookup(ps, &r, &e, &co, &st);
	if (res == LM_LOOKUP_MISS) {
		atomic_fetch_add(&lk_calls, 1);
		usleep(100 * 1000);
		lm_store_fill(ps, &r, "long", 4, LM_DUR_NEVER);
	} else if (res == LM_LOOKUP_HIT) {
		size_t n;
		cr_expect_eq(memcmp(lm_entry_value(e, &n), "long", 4), 0);
		atomic_fetch_add(&lk_hits, 1);
		if (co)
			atomic_fetch_add(&lk_coalesced, 1);
		lm_entry_release(ps, e);
	}
	return NULL;
}

/* A waiter not woken would still see the result, after the coalesce wait:
 * that wait is longer than the test's timeout. */
Test(store_pending, long_key_misses_coalesce, .timeout = 30)
{
	memset(long_key, 'k', sizeof(long_key) - 1);
	struct lm_store_cfg cfg = {.hash = lm_test_key_hash,
	                           .max_entries = 100,
	                           .max_memory = 1 << 20,
	                           .nmethods = 1,
	                           .now_ms = lm_test_clock,
	                           .coalesce_wait_ms = 60000};
	ps = lm_store_new(&cfg);
	pthread_t t[4];
	pthread_barrier_init(&pbar, NULL, 4);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, long_key_worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	cr_expect_eq(lk_calls, 1);
	cr_expect_eq(lk_hits, 3);
	cr_expect_eq(lk_coalesced, 3);
	lm_store_free(ps);
}

/* Owners and waiters change places as fast as they can on one key. A lost
 * wake-up, or a marker reused while a waiter sleeps on it, leaves a thread
 * asleep for the whole coalesce wait (60 s), past the test's timeout. */
#define HAMMER_ROUNDS 20000
static _Atomic long hammer_done, hammer_hits;

static void *hammer_worker(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&pbar);
	for (int i = 0; i < HAMMER_ROUNDS; i++) {
		struct lm_store_req r = lm_test_req(0, "hot");
		r.coalesce = true;
		struct lm_entry *e, *st;
		bool co;
		enum lm_lookup res = lm_store_lookup(ps, &r, &e, &co, &st);
		if (res == LM_LOOKUP_HIT) {
			atomic_fetch_add(&hammer_hits, 1);
			lm_entry_release(ps, e);
		} else if (res == LM_LOOKUP_MISS) {
			switch (i % 3) {
			case 0:
				lm_store_fill(ps, &r, "v", 1, LM_DUR_NEVER);
				lm_store_drop_key(ps, 0, r.hash, r.key, r.klen);
				break;
			case 1:
				lm_store_abandon(ps, &r);
				break;
			default:
				lm_store_fill(ps, &r, "v", 1, 0);
			}
		}
		atomic_fetch_add(&hammer_done, 1);
	}
	return NULL;
}

Test(store_pending, rapid_owner_waiter_turnover_loses_no_wakeup, .timeout = 30)
{
	struct lm_store_cfg cfg = {.hash = lm_test_key_hash,
	                           .max_entries = 100,
	                           .max_memory = 1 << 20,
	                           .nmethods = 1,
	                           .now_ms = lm_test_clock,
	                           .coalesce_wait_ms = 60000};
	ps = lm_store_new(&cfg);
	pthread_t t[4];
	pthread_barrier_init(&pbar, NULL, 4);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, hammer_worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	cr_log_info("hits %ld", (long)hammer_hits);
	cr_expect_eq(hammer_done, 4L * HAMMER_ROUNDS);
	lm_store_free(ps);
}
