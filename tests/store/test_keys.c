/* Keys that collide in the hash are told apart by their bytes: the
 * store's hash is made constant here, so every lookup compares keys. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

static uint64_t same_hash(const void *key, uint32_t klen)
{
	(void)key;
	(void)klen;
	return 42;
}

static struct lm_store *colliding_store(uint32_t nmethods)
{
	struct lm_store_cfg cfg = {
	    .max_entries = 1000,
	    .max_memory = 1u << 26,
	    .nmethods = nmethods,
	    .now_ms = lm_test_clock,
	    .hash = same_hash,
	};
	struct lm_store *s = lm_store_new(&cfg);
	cr_assert_not_null(s);
	return s;
}

static struct lm_store_req req(uint32_t method, const void *key, uint32_t klen)
{
	return (struct lm_store_req){.method = method, .hash = 42, .key = key, .klen = klen};
}

static void put(struct lm_store *s, struct lm_store_req r, long val)
{
	struct lm_entry *e, *stale;
	bool co;
	cr_assert_eq(lm_store_lookup(s, &r, &e, &co, &stale), LM_LOOKUP_MISS);
	cr_assert_eq(lm_store_fill(s, &r, &val, sizeof val, LM_DUR_NEVER), 1);
}

static long get(struct lm_store *s, struct lm_store_req r)
{
	struct lm_entry *e, *stale;
	bool co;
	if (lm_store_lookup(s, &r, &e, &co, &stale) != LM_LOOKUP_HIT) {
		lm_store_abandon(s, &r);
		return -1;
	}
	size_t n;
	long v;
	memcpy(&v, lm_entry_value(e, &n), sizeof v);
	lm_entry_release(s, e);
	return v;
}

Test(store_keys, long_keys_differing_past_64_256_and_4096_bytes)
{
	static const size_t at[] = {8, 64, 65, 256, 257, 4096, 4097, 6000};
	enum { N = sizeof at / sizeof at[0], LEN = 6001 };
	struct lm_store *s = colliding_store(1);
	static char keys[N][LEN];
	for (size_t i = 0; i < N; i++) {
		memset(keys[i], 'p', LEN);
		keys[i][at[i]] = 'q';
		put(s, req(0, keys[i], LEN), (long)i);
	}
	for (size_t i = 0; i < N; i++)
		cr_expect_eq(get(s, req(0, keys[i], LEN)), (long)i, "the key differing at %zu",
		             at[i]);
	lm_store_free(s);
}

Test(store_keys, a_prefix_is_another_key)
{
	struct lm_store *s = colliding_store(1);
	put(s, req(0, "abc", 3), 3);
	put(s, req(0, "ab", 2), 2);
	put(s, req(0, "abcd", 4), 4);
	cr_expect_eq(get(s, req(0, "ab", 2)), 2);
	cr_expect_eq(get(s, req(0, "abc", 3)), 3);
	cr_expect_eq(get(s, req(0, "abcd", 4)), 4);
	lm_store_free(s);
}

Test(store_keys, the_same_key_of_two_methods)
{
	struct lm_store *s = colliding_store(2);
	put(s, req(0, "k", 1), 10);
	put(s, req(1, "k", 1), 11);
	cr_expect_eq(get(s, req(1, "k", 1)), 11);
	cr_expect_eq(get(s, req(0, "k", 1)), 10);
	lm_store_free(s);
}
