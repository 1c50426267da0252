/* Shared by the store tests: a fake clock, a key hash and short wrappers
 * around the lookup/fill cycle. */
#ifndef LM_TEST_STORE_HELPERS_H
#define LM_TEST_STORE_HELPERS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "config/config.h"
#include "shim/store/store.h"

extern _Atomic int64_t lm_test_now;
int64_t lm_test_clock(void);

static inline uint64_t lm_test_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static inline uint64_t lm_test_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * UINT64_C(0x100000001b3);
	return lm_test_mix(h);
}

/* lm_test_hash as the store's cfg.hash, for stores the tests make. */
uint64_t lm_test_key_hash(const void *key, uint32_t klen);

struct lm_store *lm_test_store(uint64_t max_entries, uint64_t max_memory, uint32_t nmethods,
                               const uint64_t *method_max);

static inline struct lm_store_req lm_test_req(uint32_t method, const char *key)
{
	return (struct lm_store_req){
	    .method = method,
	    .hash = lm_test_hash(key, strlen(key)),
	    .key = key,
	    .klen = (uint32_t)strlen(key),
	};
}

/* Look KEY up; on a hit copy the value (NUL-terminated) into OUT. */
enum lm_lookup lm_test_get(struct lm_store *s, uint32_t method, const char *key, char *out,
                           size_t outlen);
/* A full miss cycle: lookup (expected MISS) then fill. Returns fill's result,
 * -1 when the lookup did not miss. */
int lm_test_set(struct lm_store *s, uint32_t method, const char *key, const char *val, int64_t ttl);

#endif
