/* The lock-free hit path (reclaim.h, lm_store_get): readers against
 * writers, drops and evictions, with values larger than a cache line so
 * that a torn or freed value would show; a reader stopped in the middle of
 * its copy; memory under max_memory through a drop storm. Run under ASan by
 * scripts/sanitize.sh, where a read of freed memory fails the run. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "helpers.h"

#define WORDS   40 /* 320-byte values: five cache lines */
#define KEYS    512
#define READERS 8
#define WRITERS 2

static struct lm_store *ls;
static _Atomic uint64_t published[KEYS]; /* last version whose put returned 1 */
static _Atomic uint64_t written[KEYS];   /* last version a put was started for */
static _Atomic bool done;
static _Atomic long torn, stale, hits;

static uint64_t key_hash(const void *key, uint32_t klen)
{
	uint32_t k = 0;
	memcpy(&k, key, klen < sizeof k ? klen : sizeof k);
	return lm_test_mix(k + 1);
}

/* Every word names the key, the version and its own index. */
static void value_of(uint32_t k, uint64_t v, uint64_t w[WORDS])
{
	for (uint64_t i = 0; i < WORDS; i++)
		w[i] = (uint64_t)k << 48 | v << 8 | i;
}

/* The version a value holds, or UINT64_MAX when it is not one whole value
 * of key K. */
static uint64_t version_in(const unsigned char *val, size_t len, uint32_t k)
{
	uint64_t w[WORDS];
	if (len != sizeof w)
		return UINT64_MAX;
	memcpy(w, val, sizeof w);
	uint64_t v = (w[0] >> 8) & ((UINT64_C(1) << 40) - 1);
	uint64_t want[WORDS];
	value_of(k, v, want);
	return memcmp(w, want, sizeof w) == 0 ? v : UINT64_MAX;
}

static struct lm_store *new_store(uint64_t max_entries, uint64_t max_memory)
{
	struct lm_store_cfg cfg = {.max_entries = max_entries,
	                           .max_memory = max_memory,
	                           .nmethods = 1,
	                           .nshards = 4,
	                           .hash = key_hash};
	return lm_store_new(&cfg);
}

static void *writer(void *arg)
{
	uint32_t w = (uint32_t)(uintptr_t)arg;
	uint64_t seed = w + 77;
	while (!atomic_load(&done)) {
		seed = lm_test_mix(seed);
		/* each key has one writer, so its versions only grow */
		uint32_t k = (uint32_t)(seed % (KEYS / WRITERS)) * WRITERS + w;
		uint64_t v = atomic_load(&written[k]) + 1;
		atomic_store(&written[k], v);
		uint64_t val[WORDS];
		value_of(k, v, val);
		if (lm_store_put(ls, 0, key_hash(&k, sizeof k), &k, sizeof k, val, sizeof val,
		                 LM_DUR_NEVER) == 1)
			atomic_store_explicit(&published[k], v, memory_order_release);
		if (seed % 7 == 0)
			lm_store_drop_key(ls, 0, key_hash(&k, sizeof k), &k, sizeof k);
	}
	return NULL;
}

static void *dropper(void *arg)
{
	(void)arg;
	for (int i = 0; !atomic_load(&done); i++) {
		if (i % 3 == 0)
			lm_store_drop_method(ls, 0);
		else
			lm_store_drop_all(ls);
		sched_yield();
	}
	return NULL;
}

static void check_hit(struct lm_entry *e, uint32_t k, uint64_t floor)
{
	size_t n;
	const unsigned char *val = lm_entry_value(e, &n);
	if (((uintptr_t)e & 3) == 0)
		sched_yield(); /* a reader preempted in the middle of its copy */
	uint64_t v = version_in(val, n, k);
	atomic_fetch_add(&hits, 1);
	if (v == UINT64_MAX)
		atomic_fetch_add(&torn, 1);
	else if (v < floor || v > atomic_load(&written[k]))
		atomic_fetch_add(&stale, 1);
}

static void *reader(void *arg)
{
	uint64_t seed = (uintptr_t)arg;
	for (int i = 0; i < 60000; i++) {
		seed = lm_test_mix(seed);
		uint32_t k = (uint32_t)(seed % KEYS);
		/* a hit must be at least as new as what was published before it
		 * began */
		uint64_t floor = atomic_load_explicit(&published[k], memory_order_acquire);
		struct lm_store_req r = {
		    .method = 0, .hash = key_hash(&k, sizeof k), .key = &k, .klen = sizeof k};
		struct lm_entry *e = NULL, *st = NULL;
		bool co;
		if (seed & 1) {
			if (lm_store_get(ls, &r, &e)) {
				check_hit(e, k, floor);
				lm_entry_release(ls, e);
			}
			continue;
		}
		enum lm_lookup res = lm_store_lookup(ls, &r, &e, &co, &st);
		if (res == LM_LOOKUP_HIT) {
			check_hit(e, k, floor);
			lm_entry_release(ls, e);
		} else if (res == LM_LOOKUP_MISS) {
			lm_entry_unref(ls, st);
			lm_store_abandon(ls, &r);
		}
	}
	return NULL;
}

static void race(uint64_t max_entries, uint64_t max_memory)
{
	ls = new_store(max_entries, max_memory);
	cr_assert_not_null(ls);
	atomic_store(&done, false);
	pthread_t w[WRITERS], d, r[READERS];
	for (uintptr_t i = 0; i < WRITERS; i++)
		pthread_create(&w[i], NULL, writer, (void *)i);
	pthread_create(&d, NULL, dropper, NULL);
	for (uintptr_t i = 0; i < READERS; i++)
		pthread_create(&r[i], NULL, reader, (void *)(i + 1));
	for (int i = 0; i < READERS; i++)
		pthread_join(r[i], NULL);
	atomic_store(&done, true);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(w[i], NULL);
	pthread_join(d, NULL);
	cr_expect_eq(torn, 0, "%ld of %ld hits returned a torn or foreign value", torn, hits);
	cr_expect_eq(stale, 0, "%ld of %ld hits returned a value older than one already stored",
	             stale, hits);
	cr_expect_gt(hits, 0, "the readers never hit: the test tested nothing");
	cr_expect_leq(lm_store_memory(ls), max_memory);
	lm_store_free(ls);
}

Test(store_lockfree, eight_readers_against_writers_drops_and_evictions, .timeout = 120)
{
	/* the entry bound evicts */
	race(200, 1 << 20);
}

Test(store_lockfree, eight_readers_with_memory_bound_evictions, .timeout = 120)
{
	/* the memory bound evicts, and reclaims retired entries to make room */
	race(100000, 48 << 10);
}

/* ---- a reader stopped in the middle of its copy ------------------------- */

static pthread_barrier_t half, churned;
static const uint32_t held_key = 7;
static uint64_t copy[WORDS];

static void *slow_reader(void *arg)
{
	(void)arg;
	uint32_t k = held_key;
	struct lm_store_req r = {
	    .method = 0, .hash = key_hash(&k, sizeof k), .key = &k, .klen = sizeof k};
	struct lm_entry *e = NULL;
	if (!lm_store_get(ls, &r, &e)) {
		pthread_barrier_wait(&half);
		pthread_barrier_wait(&churned);
		return (void *)1;
	}
	size_t n;
	const unsigned char *val = lm_entry_value(e, &n);
	memcpy(copy, val, n / 2);
	pthread_barrier_wait(&half);    /* preempted here ... */
	pthread_barrier_wait(&churned); /* ... while the key is replaced and
	                                   dropped and the store reclaims */
	memcpy((unsigned char *)copy + n / 2, val + n / 2, n - n / 2);
	lm_entry_release(ls, e);
	return NULL;
}

Test(store_lockfree, reader_stopped_mid_copy_sees_one_whole_value, .timeout = 60)
{
	ls = new_store(100000, 8 << 20);
	uint32_t k = held_key;
	uint64_t val[WORDS];
	value_of(k, 1, val);
	cr_assert_eq(lm_store_put(ls, 0, key_hash(&k, sizeof k), &k, sizeof k, val, sizeof val,
	                          LM_DUR_NEVER),
	             1);
	pthread_barrier_init(&half, NULL, 2);
	pthread_barrier_init(&churned, NULL, 2);
	pthread_t t;
	pthread_create(&t, NULL, slow_reader, NULL);
	pthread_barrier_wait(&half);
	value_of(k, 2, val);
	cr_expect_eq(lm_store_put(ls, 0, key_hash(&k, sizeof k), &k, sizeof k, val, sizeof val,
	                          LM_DUR_NEVER),
	             1);
	cr_expect_eq(lm_store_drop_key(ls, 0, key_hash(&k, sizeof k), &k, sizeof k), 1);
	/* enough removals for several reclamation batches, and a table grown
	 * past the array the reader probed */
	for (uint32_t i = 100; i < 3000; i++) {
		lm_store_put(ls, 0, key_hash(&i, sizeof i), &i, sizeof i, val, sizeof val,
		             LM_DUR_NEVER);
		if (i % 2)
			lm_store_drop_key(ls, 0, key_hash(&i, sizeof i), &i, sizeof i);
	}
	uint64_t held = lm_store_memory(ls);
	pthread_barrier_wait(&churned);
	void *rv;
	pthread_join(t, &rv);
	cr_assert_null(rv, "the reader did not find the key");
	cr_expect_eq(version_in((const unsigned char *)copy, sizeof copy, k), 1,
	             "the copy is not the whole first value");
	/* released: the next batches free what the reader held */
	for (uint32_t i = 3000; i < 6000; i++) {
		lm_store_put(ls, 0, key_hash(&i, sizeof i), &i, sizeof i, val, sizeof val,
		             LM_DUR_NEVER);
		lm_store_drop_key(ls, 0, key_hash(&i, sizeof i), &i, sizeof i);
	}
	uint64_t entries, live;
	lm_store_totals(ls, &entries, &live);
	cr_expect_lt(lm_store_memory(ls), held, "memory held by the reader was never freed");
	cr_expect_leq(lm_store_memory(ls) - live, 256 * 500, "more than a batch left unfreed");
	pthread_barrier_destroy(&half);
	pthread_barrier_destroy(&churned);
	lm_store_free(ls);
}

/* ---- drop storm ---------------------------------------------------------- */

static _Atomic uint64_t peak;

static void *sampler(void *arg)
{
	uint64_t max = (uintptr_t)arg;
	while (!atomic_load(&done)) {
		uint64_t m = lm_store_memory(ls);
		if (m > atomic_load(&peak))
			atomic_store(&peak, m);
		if (m > max)
			break;
	}
	return NULL;
}

Test(store_lockfree, drop_storm_under_readers_stays_under_max_memory, .timeout = 120)
{
	const uint64_t max = 64 << 10;
	ls = new_store(100000, max);
	atomic_store(&done, false);
	atomic_store(&peak, 0);
	pthread_t w[WRITERS], d, s, r[4];
	for (uintptr_t i = 0; i < WRITERS; i++)
		pthread_create(&w[i], NULL, writer, (void *)i);
	pthread_create(&d, NULL, dropper, NULL);
	pthread_create(&s, NULL, sampler, (void *)(uintptr_t)max);
	for (uintptr_t i = 0; i < 4; i++)
		pthread_create(&r[i], NULL, reader, (void *)(i + 11));
	for (int i = 0; i < 4; i++)
		pthread_join(r[i], NULL);
	atomic_store(&done, true);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(w[i], NULL);
	pthread_join(d, NULL);
	pthread_join(s, NULL);
	cr_expect_leq(atomic_load(&peak), max, "the store held %lu bytes, over max_memory",
	              (unsigned long)atomic_load(&peak));
	cr_expect_eq(torn + stale, 0);
	lm_store_drop_all(ls);
	lm_store_free(ls);
}
