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

#define LM_FRONT_PAIR_BITS 7
#define LM_FRONT_SLOTS     (2 << LM_FRONT_PAIR_BITS)
#define LM_FRONT_BYTES     112 /* key + value bytes a slot holds: room for a 64-byte out */

struct lm_front_slot {
	uint64_t hash;
	uint64_t epoch;
	const uint64_t *epochp; /* the store's counter epoch was read from */
	int64_t expires_ms;
	uint32_t method; /* UINT32_MAX: empty */
	uint16_t klen, vlen;
	unsigned char data[LM_FRONT_BYTES];
};

_Static_assert(sizeof(struct lm_front_slot) == 152, "README: 38 KiB per thread");

/* Bytes each thread that hits the cache holds for its front cache. */
#define LM_FRONT_THREAD_BYTES (LM_FRONT_SLOTS * sizeof(struct lm_front_slot))

extern __thread struct lm_front_slot *lm_front;

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
	return h;
}

/* The first slot of HASH's pair. */
static inline uint32_t lm_front_pair(uint64_t hash)
{
	return (uint32_t)(hash >> (64 - LM_FRONT_PAIR_BITS)) * 2;
}

/* The value of KEY if this thread holds a valid copy, else NULL. Two-way:
 * a key may sit in either slot of its pair. *EXPIRES_MS: the copy's expiry. */
static inline const void *lm_front_get(uint32_t method, const void *key, uint32_t klen,
                                       size_t *vlen, int64_t *expires_ms)
{
	struct lm_front_slot *f = lm_front;
	if (!f)
		return NULL;
	uint64_t hash = lm_front_hash(method, key, klen);
	f += lm_front_pair(hash);
	if (f->hash != hash)
		f++;
	if (f->hash != hash || f->method != method || f->klen != klen ||
	    !lm_front_same(f->data, key, klen) ||
	    (f->expires_ms != INT64_MAX && f->expires_ms <= lm_clock_ms()))
		return NULL;
	if (__atomic_load_n(f->epochp, __ATOMIC_ACQUIRE) != f->epoch)
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

#endif
