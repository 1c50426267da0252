/* The per-thread front cache: copies valid only while the method's copy
 * epoch and the entry's expiry hold, and a slot hash that spreads
 * keys differing only in their high bits. */
#include <criterion/criterion.h>
#include <string.h>

#include "shim/call/front.h"
#include "shim/base/clock.h"
#include "tests/common/clock_words.h"

static struct lm_store *store;

static void setup(void)
{
	struct lm_store_cfg cfg = {.max_entries = 1000, .max_memory = 1 << 20, .nmethods = 2};
	store = lm_store_new(&cfg);
	cr_assert(store != NULL);
}

static void teardown(void)
{
	lm_store_free(store);
}

TestSuite(front, .init = setup, .fini = teardown);

/* Put a copy of KEY -> VAL taken with the method's copy epoch now. */
static void put(uint32_t method, long key, long val, int64_t expires)
{
	lm_front_put(lm_store_copy_epoch(store, method), method, &key, sizeof key, &val, sizeof val,
	             expires, lm_store_copy_epoch_now(store, method));
}

static long get(uint32_t method, long key)
{
	size_t vlen;
	int64_t expires;
	const void *v = lm_front_get(method, &key, sizeof key, &vlen, &expires);
	long out = -1;
	if (v) {
		cr_assert_eq(vlen, sizeof out);
		memcpy(&out, v, sizeof out);
	}
	return out;
}

Test(front, copy_answers_until_a_drop_moves_the_copy_epoch)
{
	put(0, 7, 49, INT64_MAX);
	put(1, 7, 343, INT64_MAX);
	cr_expect_eq(get(0, 7), 49);
	cr_expect_eq(get(1, 7), 343, "same key bytes, other method: its own copy");
	lm_store_drop_method(store, 0);
	cr_expect_eq(get(0, 7), -1, "a method drop invalidates the copy");
	cr_expect_eq(get(1, 7), 343, "another method's copy stays");
	lm_store_drop_all(store);
	cr_expect_eq(get(1, 7), -1);
}

Test(front, expired_copy_is_not_used)
{
	put(0, 3, 9, lm_clock_ms() - 1);
	cr_expect_eq(get(0, 3), -1);
	put(0, 4, 16, lm_clock_ms() + 60000);
	cr_expect_eq(get(0, 4), 16);
}

/* The kernel's clock words read while it wrote them can be a second
 * off: a copy that expired 100 ms ago is not used when they say it has
 * 800 ms left, and one with 100 ms left is used when they say it expired
 * 800 ms ago. */
Test(front, a_torn_reading_of_the_clock_words_decides_nothing_within_its_second)
{
	int64_t t = lm_clock_ms();
	static int64_t torn[2];
	for (int way = -1; way <= 1; way += 2) {
		lm_test_words_at(t + way * 900, torn);
		const volatile int64_t *found = lm_clock_use_words(torn);
		put(0, 5, 25, t + way * 100);
		long got = get(0, 5);
		lm_clock_use_words(found);
		cr_expect_eq(got, way > 0 ? 25 : -1, "words %+d ms, copy %+d ms", way * 900,
		             way * 100);
	}
}

/* Regression: slot pairs were chosen by the hash's low bits, which a
 * double's value never reaches; 64 hot double keys then shared one pair
 * and a hit cost 70 ns instead of 30. */
Test(front, doubles_spread_over_the_pairs)
{
	bool used[LM_FRONT_SLOTS] = {0};
	int pairs = 0;
	for (int i = 0; i < 64; i++) {
		double d = i;
		uint32_t p = lm_front_pair(lm_front_hash(0, (const unsigned char *)&d, sizeof d));
		cr_assert_lt(p + 1, LM_FRONT_SLOTS);
		pairs += !used[p];
		used[p] = true;
	}
	cr_expect_geq(pairs, 40, "64 keys in %d pairs", pairs);
}

/* Guarantee 4 for copies: the epoch is read before the lookup that found
 * the entry, so a drop that lands between that lookup and the copy leaves
 * a copy that is never used. */
Test(front, copy_taken_across_a_drop_is_never_used)
{
	uint64_t before = lm_store_copy_epoch_now(store, 0);
	lm_store_drop_key(store, 0, 1, "other", 5);
	long key = 5, val = 25;
	lm_front_put(lm_store_copy_epoch(store, 0), 0, &key, sizeof key, &val, sizeof val,
	             INT64_MAX, before);
	cr_expect_eq(get(0, 5), -1);
}

/* Keys are compared a word at a time with overlapping loads for the tail:
 * a difference in any byte of any length must still show. */
Test(front, a_difference_in_any_byte_of_any_length_shows)
{
	/* every length a slot can hold: past 64 bytes too */
	unsigned char a[LM_FRONT_BYTES], b[LM_FRONT_BYTES];
	for (uint32_t n = 1; n <= sizeof a; n++) {
		for (uint32_t i = 0; i < n; i++)
			a[i] = b[i] = (unsigned char)(i * 7 + n);
		cr_assert(lm_front_same(a, b, n), "length %u: equal", n);
		cr_assert_eq(lm_front_hash(1, a, n), lm_front_hash(1, b, n));
		for (uint32_t i = 0; i < n; i++) {
			b[i] ^= 0x40;
			cr_assert(!lm_front_same(a, b, n), "length %u, byte %u", n, i);
			b[i] ^= 0x40;
		}
	}
}

/* The quick path hashes and compares a key held as words: the same hash
 * and the same slot as the key's bytes, at every length a slot holds. */
Test(front, a_key_as_words_hashes_and_finds_as_its_bytes)
{
	uint64_t w[LM_FRONT_BYTES / 8 + 1];
	unsigned char *a = (unsigned char *)w;
	for (uint32_t n = 1; n <= LM_FRONT_BYTES; n++) {
		memset(w, 0, sizeof w);
		for (uint32_t i = 0; i < n; i++)
			a[i] = (unsigned char)(i * 11 + n);
		cr_assert_eq(lm_front_hash_words(1, w, n), lm_front_hash(1, a, n), "length %u", n);
		if (n % 8)
			cr_assert_eq(lm_front_tail_words(w, n), lm_front_tail(a, n), "length %u",
			             n);
	}
	long key = 77, val = 5929;
	put(0, key, val, INT64_MAX);
	memcpy(w, &key, sizeof key);
	const struct lm_front_slot *s = lm_front_find_words(0, w, sizeof key);
	cr_assert_not_null(s);
	cr_expect(lm_front_valid(s, lm_clock_ms()));
	w[0] ^= 1ull << 60;
	cr_expect_null(lm_front_find_words(0, w, sizeof key));
}

/* A thread whose misses bring more keys than its cache holds gets a
 * larger one: 1,000 hot keys are then all answered from copies, which
 * 256 slots could not do. Drops still apply to every copy. */
Test(front, grows_when_misses_bring_more_keys_than_it_holds)
{
	for (long k = 0; k < 1000; k++) {
		put(0, k, k * k, INT64_MAX);
		lm_front_grow(); /* what the dispatcher does after a miss's fill */
	}
	cr_expect_gt(lm_front_bits, LM_FRONT_PAIR_BITS);
	/* a grown cache is empty: the keys come back with their next fills */
	for (long k = 0; k < 1000; k++)
		put(0, k, k * k, INT64_MAX);
	int found = 0;
	for (long k = 0; k < 1000; k++) {
		long v = get(0, k);
		cr_assert(v == -1 || v == k * k, "key %ld", k);
		found += v == k * k;
	}
	cr_expect_gt(found, 900, "%d of 1000 keys in %u slots", found, 2u << lm_front_bits);
	lm_store_drop_method(store, 0);
	for (long k = 0; k < 1000; k++)
		cr_assert_eq(get(0, k), -1);
}

Test(front, grows_no_larger_than_its_cap)
{
	for (long k = 0; k < 100000; k++) {
		put(1, k, k, INT64_MAX);
		lm_front_grow();
	}
	cr_expect_eq(lm_front_bits, LM_FRONT_MAX_PAIR_BITS);
	cr_expect_eq(get(1, 99999), 99999);
}

/* Without misses (put alone: the copies a store hit keeps) it never
 * grows, so a hit never allocates. */
Test(front, copies_kept_on_hits_alone_never_grow_it)
{
	for (long k = 0; k < 5000; k++)
		put(0, k, k, INT64_MAX);
	cr_expect_eq(lm_front_bits, LM_FRONT_PAIR_BITS);
}
