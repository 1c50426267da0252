/* Lookup/fill cycle, full key comparison, TTL, stale_if_error, reclaim,
 * persistence helpers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <time.h>

#include "helpers.h"
#include "shim/base/clock.h"
#include "tests/common/clock_words.h"

Test(store_basic, miss_then_fill_then_hit)
{
	struct lm_store *s = lm_test_store(100, 1 << 20, 1, NULL);
	cr_assert_not_null(s);
	char buf[64];
	cr_expect_eq(lm_test_get(s, 0, "k1", buf, sizeof(buf)), LM_LOOKUP_MISS);
	cr_expect_eq(lm_test_set(s, 0, "k1", "value one", 1000), 1);
	cr_expect_eq(lm_test_get(s, 0, "k1", buf, sizeof(buf)), LM_LOOKUP_HIT);
	cr_expect_str_eq(buf, "value one");
	uint64_t n, b;
	lm_store_totals(s, &n, &b);
	cr_expect_eq(n, 1);
	cr_expect_gt(b, strlen("k1") + strlen("value one"));
	lm_store_free(s);
}

Test(store_basic, methods_are_part_of_the_key)
{
	struct lm_store *s = lm_test_store(100, 1 << 20, 2, NULL);
	char buf[64];
	cr_assert_eq(lm_test_set(s, 0, "k", "zero", 1000), 1);
	cr_expect_eq(lm_test_get(s, 1, "k", buf, sizeof(buf)), LM_LOOKUP_MISS);
	cr_assert_eq(lm_test_set(s, 1, "k", "one", 1000), 1);
	cr_expect_eq(lm_test_get(s, 0, "k", buf, sizeof(buf)), LM_LOOKUP_HIT);
	cr_expect_str_eq(buf, "zero");
	cr_expect_eq(lm_test_get(s, 1, "k", buf, sizeof(buf)), LM_LOOKUP_HIT);
	cr_expect_str_eq(buf, "one");
	lm_store_free(s);
}

static int fill_with_hash(struct lm_store *s, const char *key, uint64_t hash, const char *val)
{
	struct lm_store_req r = {.method = 0, .hash = hash, .key = key, .klen = strlen(key)};
	struct lm_entry *e, *st;
	bool co;
	if (lm_store_lookup(s, &r, &e, &co, &st) != LM_LOOKUP_MISS)
		return -1;
	return lm_store_fill(s, &r, val, strlen(val) + 1, 1000);
}

static const char *get_with_hash(struct lm_store *s, const char *key, uint64_t hash,
                                 struct lm_entry **e)
{
	struct lm_store_req r = {.method = 0, .hash = hash, .key = key, .klen = strlen(key)};
	struct lm_entry *st;
	bool co;
	if (lm_store_lookup(s, &r, e, &co, &st) != LM_LOOKUP_HIT)
		return NULL;
	size_t n;
	return lm_entry_value(*e, &n);
}

#define COLLIDING 0x123456789abcdef0ULL

static uint64_t every_key_collides(const void *key, uint32_t klen)
{
	(void)key, (void)klen;
	return COLLIDING;
}

Test(store_basic, hash_collision_never_returns_another_key)
{
	struct lm_store_cfg cfg = {
	    .max_entries = 100, .max_memory = 1 << 20, .nmethods = 1, .hash = every_key_collides};
	struct lm_store *s = lm_store_new(&cfg);
	const uint64_t h = COLLIDING;
	cr_assert_eq(fill_with_hash(s, "alpha", h, "A"), 1);
	struct lm_entry *e;
	cr_expect_null(get_with_hash(s, "bravo", h, &e), "different key with the same hash hit");
	cr_expect_null(get_with_hash(s, "alph", h, &e), "prefix with the same hash hit");
	cr_assert_eq(fill_with_hash(s, "bravo", h, "B"), 1);
	const char *v = get_with_hash(s, "alpha", h, &e);
	cr_assert_not_null(v);
	cr_expect_str_eq(v, "A");
	lm_entry_release(s, e);
	v = get_with_hash(s, "bravo", h, &e);
	cr_assert_not_null(v);
	cr_expect_str_eq(v, "B");
	lm_entry_release(s, e);
	cr_expect_eq(lm_store_drop_key(s, 0, h, "alpha", 5), 1);
	v = get_with_hash(s, "bravo", h, &e);
	cr_assert_not_null(v, "dropping a colliding key removed the other one");
	lm_entry_release(s, e);
	lm_store_free(s);
}

Test(store_basic, ttl_expires_at_ttl_and_not_before)
{
	struct lm_store *s = lm_test_store(100, 1 << 20, 1, NULL);
	cr_assert_eq(lm_test_set(s, 0, "k", "v", 50), 1);
	lm_test_now += 49;
	cr_expect_eq(lm_test_get(s, 0, "k", NULL, 0), LM_LOOKUP_HIT);
	lm_test_now += 1;
	cr_expect_eq(lm_test_get(s, 0, "k", NULL, 0), LM_LOOKUP_MISS);
	struct lm_store_mstats ms;
	lm_store_method_stats(s, 0, &ms);
	cr_expect_eq(ms.expired, 1);
	cr_expect_eq(ms.entries, 0);
	lm_store_free(s);
}

Test(store_basic, never_does_not_expire_and_nonpositive_ttl_is_not_stored)
{
	struct lm_store *s = lm_test_store(100, 1 << 20, 1, NULL);
	cr_assert_eq(lm_test_set(s, 0, "k", "v", LM_DUR_NEVER), 1);
	lm_test_now += (int64_t)1 << 50;
	cr_expect_eq(lm_test_get(s, 0, "k", NULL, 0), LM_LOOKUP_HIT);
	cr_expect_eq(lm_test_set(s, 0, "z", "v", 0), 0);
	cr_expect_eq(lm_test_get(s, 0, "z", NULL, 0), LM_LOOKUP_MISS);
	lm_store_free(s);
}

Test(store_basic, stale_if_error_window)
{
	struct lm_store *s = lm_test_store(100, 1 << 20, 1, NULL);
	cr_assert_eq(lm_test_set(s, 0, "k", "old", 100), 1);
	lm_test_now += 150; /* expired 50 ms ago */
	struct lm_store_req r = lm_test_req(0, "k");
	r.stale_ms = 100;
	struct lm_entry *e, *st;
	bool co;
	cr_assert_eq(lm_store_lookup(s, &r, &e, &co, &st), LM_LOOKUP_MISS);
	cr_assert_not_null(st, "expired entry inside the window not handed back");
	size_t n;
	cr_expect_eq(memcmp(lm_entry_value(st, &n), "old", 3), 0);
	lm_entry_unref(s, st);
	lm_store_abandon(s, &r);
	lm_test_now += 60; /* expired 110 ms ago: outside */
	r = lm_test_req(0, "k");
	r.stale_ms = 100;
	cr_assert_eq(lm_store_lookup(s, &r, &e, &co, &st), LM_LOOKUP_MISS);
	cr_expect_null(st);
	struct lm_store_mstats ms;
	lm_store_method_stats(s, 0, &ms);
	cr_expect_eq(ms.entries, 0);
	cr_expect_eq(ms.expired, 1);
	lm_store_free(s);
}

Test(store_basic, expired_entries_are_reclaimed_by_inserts)
{
	struct lm_store *s = lm_test_store(10000, 1 << 24, 1, NULL);
	char k[32];
	for (int i = 0; i < 200; i++) {
		snprintf(k, sizeof(k), "short%d", i);
		cr_assert_eq(lm_test_set(s, 0, k, "v", 10), 1);
	}
	uint64_t n, b;
	lm_store_totals(s, &n, &b);
	cr_assert_eq(n, 200);
	lm_test_now += 20;
	for (int i = 0; i < 400; i++) {
		snprintf(k, sizeof(k), "long%d", i);
		cr_assert_eq(lm_test_set(s, 0, k, "v", LM_DUR_NEVER), 1);
	}
	lm_store_totals(s, &n, &b);
	struct lm_store_mstats ms;
	lm_store_method_stats(s, 0, &ms);
	cr_log_info("after sweeping inserts: entries %lu, expired %lu", (unsigned long)n,
	            (unsigned long)ms.expired);
	cr_expect_lt(n, 600, "no expired entry was reclaimed");
	cr_expect_eq(n + ms.expired, 600);
	lm_store_free(s);
}

Test(store_basic, fill_replaces_existing_entry)
{
	struct lm_store *s = lm_test_store(100, 1 << 20, 1, NULL);
	cr_assert_eq(lm_test_set(s, 0, "k", "one", 10), 1);
	lm_test_now += 20;
	cr_assert_eq(lm_test_set(s, 0, "k", "two", 10), 1);
	char buf[16];
	cr_expect_eq(lm_test_get(s, 0, "k", buf, sizeof(buf)), LM_LOOKUP_HIT);
	cr_expect_str_eq(buf, "two");
	uint64_t n, b;
	lm_store_totals(s, &n, &b);
	cr_expect_eq(n, 1);
	lm_store_free(s);
}

Test(store_basic, entry_outlives_removal_while_referenced)
{
	struct lm_store *s = lm_test_store(100, 1 << 20, 1, NULL);
	cr_assert_eq(lm_test_set(s, 0, "k", "held value", 1000), 1);
	struct lm_store_req r = lm_test_req(0, "k");
	struct lm_entry *e, *st;
	bool co;
	cr_assert_eq(lm_store_lookup(s, &r, &e, &co, &st), LM_LOOKUP_HIT);
	cr_expect_eq(lm_store_drop_all(s), 1);
	size_t n;
	cr_expect_eq(memcmp(lm_entry_value(e, &n), "held value", 10), 0);
	uint32_t kl;
	cr_expect_eq(memcmp(lm_entry_key(e, &kl), "k", 1), 0);
	cr_expect_eq(kl, 1);
	lm_entry_release(s, e);
	lm_store_free(s);
}

struct collect {
	int n;
	int64_t exp;
};

static void count_cb(const struct lm_entry *e, void *arg)
{
	struct collect *c = arg;
	c->n++;
	c->exp = lm_entry_expires_ms(e);
	cr_expect_eq(lm_entry_method(e), 1);
}

Test(store_basic, put_and_each_roundtrip)
{
	struct lm_store *s = lm_test_store(100, 1 << 20, 2, NULL);
	int64_t at = lm_test_now + 500;
	uint64_t h = lm_test_hash("pk", 2);
	cr_expect_eq(lm_store_put(s, 1, h, "pk", 2, "pv", 2, at), 1);
	cr_expect_eq(lm_store_put(s, 1, lm_test_hash("old", 3), "old", 3, "x", 1, lm_test_now), 0);
	struct collect c = {0};
	lm_store_each(s, count_cb, &c);
	cr_expect_eq(c.n, 1);
	cr_expect_eq(c.exp, at);
	char buf[8];
	cr_expect_eq(lm_test_get(s, 1, "pk", buf, sizeof(buf)), LM_LOOKUP_HIT);
	cr_expect_str_eq(buf, "pv");
	lm_store_free(s);
}

Test(store_basic, bad_method_is_a_miss_and_never_stored)
{
	struct lm_store *s = lm_test_store(100, 1 << 20, 1, NULL);
	cr_expect_eq(lm_test_set(s, 5, "k", "v", 100), 0);
	cr_expect_eq(lm_test_get(s, 5, "k", NULL, 0), LM_LOOKUP_MISS);
	lm_store_free(s);
}

static _Atomic int clock_reads;

static int64_t counting_clock(void)
{
	atomic_fetch_add(&clock_reads, 1);
	return lm_test_clock();
}

/* A miss reads the clock once, in its lookup; the fill takes the expiry
 * from that reading (earlier than the fill's own: never later than the
 * TTL allows). */
Test(store_basic, a_miss_reads_the_clock_once)
{
	struct lm_store_cfg cfg = {
	    .max_entries = 100,
	    .max_memory = 1 << 20,
	    .nmethods = 1,
	    .now_ms = counting_clock,
	    .hash = lm_test_key_hash,
	};
	struct lm_store *s = lm_store_new(&cfg);
	cr_assert_not_null(s);
	int64_t t0 = atomic_load(&lm_test_now);
	struct lm_store_req r = lm_test_req(0, "k");
	struct lm_entry *e, *stale;
	bool co;
	atomic_store(&clock_reads, 0);
	cr_assert_eq(lm_store_lookup(s, &r, &e, &co, &stale), LM_LOOKUP_MISS);
	atomic_store(&lm_test_now, t0 + 500); /* the function runs */
	cr_assert_eq(lm_store_fill(s, &r, "v", 1, 1000), 1);
	cr_expect_eq(atomic_load(&clock_reads), 1);
	atomic_store(&lm_test_now, t0 + 999);
	cr_expect_eq(lm_test_get(s, 0, "k", NULL, 0), LM_LOOKUP_HIT);
	atomic_store(&lm_test_now, t0 + 1000);
	cr_expect_eq(lm_test_get(s, 0, "k", NULL, 0), LM_LOOKUP_MISS);
	atomic_store(&lm_test_now, t0);
	lm_store_free(s);
}

/* A lock-free hit reads the kernel's clock words, which read while the
 * kernel wrote them can be a second behind: an entry that expired 15 ms
 * ago is a miss even when they say it has half a second left. */
Test(store_basic, a_torn_reading_of_the_clock_words_serves_no_expired_entry)
{
	struct lm_store_cfg cfg = {
	    .max_entries = 100, .max_memory = 1 << 20, .nmethods = 1, .hash = lm_test_key_hash};
	struct lm_store *s = lm_store_new(&cfg);
	cr_assert_not_null(s);
	int64_t expires = lm_clock_ms() + 20;
	cr_assert_eq(lm_test_set(s, 0, "k", "v", 20), 1);
	struct lm_store_req r = lm_test_req(0, "k");
	struct lm_entry *e;
	cr_assert(lm_store_get(s, &r, &e), "a lock-free hit before the expiry");
	lm_entry_release(s, e);
	while (lm_clock_ms() < expires + 15) {
		struct timespec pause = {.tv_nsec = 1000000};
		nanosleep(&pause, NULL);
	}
	static int64_t torn[2];
	lm_test_words_at(expires - 500, torn);
	const volatile int64_t *found = lm_clock_use_words(torn);
	bool hit = lm_store_get(s, &r, &e);
	lm_clock_use_words(found);
	cr_expect(!hit, "the entry outlived its ttl by a torn second");
	if (hit)
		lm_entry_release(s, e);
	lm_store_free(s);
}

/* Growth (the rehash) and deletions (backward shifts) in one shard: a
 * table of N keys, every other one then dropped, finds each key it holds
 * and no other, with the lock and without. */
static void fill_then_thin(unsigned n)
{
	struct lm_store_cfg cfg = {.max_entries = 4 * (uint64_t)n,
	                           .max_memory = 1ull << 30,
	                           .nmethods = 1,
	                           .nshards = 1,
	                           .hash = lm_test_key_hash};
	struct lm_store *s = lm_store_new(&cfg);
	cr_assert_not_null(s);
	char key[16];
	for (unsigned i = 0; i < n; i++) {
		snprintf(key, sizeof key, "k%u", i);
		cr_assert_eq(lm_test_set(s, 0, key, "v", LM_DUR_NEVER), 1, "%s", key);
	}
	for (unsigned i = 0; i < n; i += 2) {
		snprintf(key, sizeof key, "k%u", i);
		cr_assert_eq(
		    lm_store_drop_key(s, 0, lm_test_hash(key, strlen(key)), key, strlen(key)), 1,
		    "%s", key);
	}
	for (unsigned i = 0; i < n; i++) {
		snprintf(key, sizeof key, "k%u", i);
		struct lm_store_req r = lm_test_req(0, key);
		struct lm_entry *e;
		bool lockfree = lm_store_get(s, &r, &e);
		if (lockfree)
			lm_entry_release(s, e);
		bool locked = lm_test_get(s, 0, key, NULL, 0) == LM_LOOKUP_HIT;
		if (lockfree != (i % 2 == 1) || locked != (i % 2 == 1))
			cr_assert_fail("%s: found %d without the lock, %d with it", key, lockfree,
			               locked);
	}
	lm_store_free(s);
}

Test(store_basic, a_table_of_20000_keys_thinned_by_drops_finds_every_key_it_holds)
{
	fill_then_thin(20000);
}

Test(store_basic, a_table_of_100000_keys_thinned_by_drops_finds_every_key_it_holds)
{
	fill_then_thin(100000);
}
