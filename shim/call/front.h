/* The per-thread front cache: a small direct-mapped copy of recently hit
 * entries with short keys and values, answered with no lock and no atomic
 * write (the hit path of a hot key). The store stays the truth: a copy
 * carries the store's generations from when it was taken and its expiry,
 * and is used only while both still hold, so drops and TTLs apply to it
 * exactly as to the store. */
#ifndef LM_FRONT_H
#define LM_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shim/store/store.h"
#include "shim/base/clock.h"

/* A thread's front cache starts at 256 slots and grows, on misses only,
 * while its copies keep replacing each other (lm_front_grow): to 16,384
 * slots at most, for hot sets of thousands of keys. */
#define LM_FRONT_PAIR_BITS     7
#define LM_FRONT_MAX_PAIR_BITS 13
#define LM_FRONT_SLOTS         (2 << LM_FRONT_PAIR_BITS)
#define LM_FRONT_BYTES         112 /* key + value bytes a slot holds: room for a 64-byte out */

struct lm_front_slot {
	uint64_t hash;
	uint64_t epoch;
	const uint64_t *epochp; /* the store's counter epoch was read from */
	int64_t expires_ms;
	uint32_t method; /* UINT32_MAX: empty */
	uint16_t klen, vlen;
	unsigned char data[LM_FRONT_BYTES];
};

_Static_assert(sizeof(struct lm_front_slot) == 152, "README: 38 KiB per thread, 2.4 MiB at most");

extern __thread struct lm_front_slot *lm_front;
/* Its pair bits: 2 << lm_front_bits slots. */
extern __thread uint32_t lm_front_bits;

/* The bytes of K[0..N) for 0 < N < 8 as one word, by two overlapping
 * loads instead of a loop. For a given N equal words mean equal bytes. */
static inline uint64_t lm_front_short(const unsigned char *k, uint32_t n)
{
	if (n >= 4) {
		uint32_t a, b;
		__builtin_memcpy(&a, k, 4);
		__builtin_memcpy(&b, k + n - 4, 4);
		return a | (uint64_t)b << 32;
	}
	if (n >= 2) {
		uint16_t a, b;
		__builtin_memcpy(&a, k, 2);
		__builtin_memcpy(&b, k + n - 2, 2);
		return a | (uint64_t)b << 16;
	}
	return k[0];
}

/* The last word of an N-byte key past its whole words (N % 8 != 0): the
 * last 8 bytes, overlapping the word before, or the short form. */
static inline uint64_t lm_front_tail(const unsigned char *k, uint32_t n)
{
	uint64_t w;
	if (n < 8)
		return lm_front_short(k, n);
	__builtin_memcpy(&w, k + n - 8, 8);
	return w;
}

/* Short keys compare faster word by word than through a memcmp call. */
static inline bool lm_front_same(const unsigned char *a, const unsigned char *b, uint32_t n)
{
	uint32_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x, y;
		__builtin_memcpy(&x, a + i, 8);
		__builtin_memcpy(&y, b + i, 8);
		if (x != y)
			return false;
	}
	return i == n || lm_front_tail(a, n) == lm_front_tail(b, n);
}

/* The last step of the slot hash. The product's top bits alone put keys
 * that differ in a few low bits (consecutive integers, the digits of
 * "user-00000123") on a lattice: 1,000 such keys used 509 of 2,048 pairs,
 * 791 with this. */
static inline uint64_t lm_front_mix(uint64_t h)
{
	return (h ^ h >> 32) * 0xbf58476d1ce4e5b9ull;
}

/* The slot hash: a multiply per key word, not XXH3, whose latency is most
 * of a hit's. Slots compare the full key, so it only has to spread: the
 * pair is chosen by the product's top bits, which every key bit reaches
 * (the low bits would ignore a double's exponent, for one). */
static inline uint64_t lm_front_hash(uint32_t method, const unsigned char *k, uint32_t n)
{
	const uint64_t m = 0xbf58476d1ce4e5b9ull;
	uint64_t h = ((uint64_t)n << 32 | method) * 0x9e3779b97f4a7c15ull;
	uint32_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		__builtin_memcpy(&w, k + i, 8);
		h = (h ^ w) * m;
	}
	if (i < n)
		h = (h ^ lm_front_tail(k, n)) * m;
	return lm_front_mix(h);
}

/* The first slot of HASH's pair. */
static inline uint32_t lm_front_pair(uint64_t hash)
{
	return (uint32_t)(hash >> (64 - lm_front_bits)) * 2;
}

/* lm_front_tail of the N-byte key (N % 8 != 0) held as the little-endian
 * words W, zero past N: from the words, with no byte load. */
static inline uint64_t lm_front_tail_words(const uint64_t *w, uint32_t n)
{
	uint32_t i = n / 8, r = n % 8;
	if (n > 8)
		return w[i - 1] >> (8 * r) | w[i] << (64 - 8 * r);
	uint64_t x = w[0];
	if (n >= 4)
		return (x & 0xffffffffu) | ((x >> (8 * (n - 4))) & 0xffffffffu) << 32;
	if (n >= 2)
		return (x & 0xffffu) | ((x >> (8 * (n - 2))) & 0xffffu) << 16;
	return x & 0xff;
}

/* lm_front_hash of the key held as the words W (lm_front_tail_words). */
static inline uint64_t lm_front_hash_words(uint32_t method, const uint64_t *w, uint32_t n)
{
	const uint64_t m = 0xbf58476d1ce4e5b9ull;
	uint64_t h = ((uint64_t)n << 32 | method) * 0x9e3779b97f4a7c15ull;
	uint32_t i = 0;
	for (; i + 8 <= n; i += 8)
		h = (h ^ w[i / 8]) * m;
	if (i < n)
		h = (h ^ lm_front_tail_words(w, n)) * m;
	return lm_front_mix(h);
}

/* lm_front_find of the key held as the words W (lm_front_tail_words). */
static inline const struct lm_front_slot *lm_front_find_words(uint32_t method, const uint64_t *w,
                                                              uint32_t n)
{
	const struct lm_front_slot *f = lm_front;
	if (!f)
		return NULL;
	uint64_t hash = lm_front_hash_words(method, w, n);
	f += lm_front_pair(hash);
	/* Either slot, by arithmetic (hidden from the compiler, which would
	 * branch): a branch on it mispredicts half the time. */
	uint64_t h0 = f[0].hash, h1 = f[1].hash;
	size_t second = h0 != hash;
	__asm__("" : "+r"(second));
	if (h0 != hash && h1 != hash)
		return NULL;
	f += second;
	if (f->method != method || f->klen != n)
		return NULL;
	uint64_t d = 0, x;
	uint32_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__builtin_memcpy(&x, f->data + i, 8);
		d |= x ^ w[i / 8];
	}
	if (i < n)
		d |= lm_front_tail(f->data, n) ^ lm_front_tail_words(w, n);
	return d ? NULL : f;
}

/* This thread's slot for KEY, whether or not still valid, else NULL.
 * Two-way: a key may sit in either slot of its pair. */
static inline const struct lm_front_slot *lm_front_find(uint32_t method, const void *key,
                                                        uint32_t klen)
{
	const struct lm_front_slot *f = lm_front;
	if (!f)
		return NULL;
	uint64_t hash = lm_front_hash(method, key, klen);
	f += lm_front_pair(hash);
	if (f->hash != hash)
		f++;
	if (f->hash != hash || f->method != method || f->klen != klen ||
	    !lm_front_same(f->data, key, klen))
		return NULL;
	return f;
}

/* The epoch of the copy in F has not moved since it was kept. */
static inline bool lm_front_current(const struct lm_front_slot *f)
{
	return __atomic_load_n(f->epochp, __ATOMIC_ACQUIRE) == f->epoch;
}

/* The copy in F is valid at NOW_MS (lm_clock_ms): not expired, its epoch
 * not moved. */
static inline bool lm_front_valid(const struct lm_front_slot *f, int64_t now_ms)
{
	return (f->expires_ms == INT64_MAX || f->expires_ms > now_ms) && lm_front_current(f);
}

/* The value of KEY if this thread holds a valid copy, else NULL.
 * *EXPIRES_MS: the copy's expiry. */
static inline const void *lm_front_get(uint32_t method, const void *key, uint32_t klen,
                                       size_t *vlen, int64_t *expires_ms)
{
	const struct lm_front_slot *f = lm_front_find(method, key, klen);
	if (!f || !lm_front_current(f) ||
	    (f->expires_ms != INT64_MAX && lm_clock_reached(f->expires_ms)))
		return NULL;
	*vlen = f->vlen;
	*expires_ms = f->expires_ms;
	return f->data + klen;
}

/* Keep a copy of an entry seen by a lookup or fill that began after
 * METHOD's copy epoch (*EPOCHP: the store's, or the host tier's while it
 * is on) read EPOCH. Too large a key or value is simply not
 * kept. */
void lm_front_put(const uint64_t *epochp, uint32_t method, const void *key, uint32_t klen,
                  const void *val, size_t vlen, int64_t expires_ms, uint64_t epoch);

/* After a miss: when half as many keys as it has slots were put in this
 * thread's cache since it was taken, it grows fourfold (empty again: the copies
 * come back with the next hits). Never on a hit, which allocates nothing. */
void lm_front_grow(void);

#endif
