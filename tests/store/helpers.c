#include "helpers.h"

_Atomic int64_t lm_test_now = 1000000;

int64_t lm_test_clock(void)
{
	return atomic_load(&lm_test_now);
}

uint64_t lm_test_key_hash(const void *key, uint32_t klen)
{
	return lm_test_hash(key, klen);
}

struct lm_store *lm_test_store(uint64_t max_entries, uint64_t max_memory, uint32_t nmethods,
                               const uint64_t *method_max)
{
	struct lm_store_cfg cfg = {
	    .max_entries = max_entries,
	    .max_memory = max_memory,
	    .nmethods = nmethods,
	    .method_max_entries = method_max,
	    .now_ms = lm_test_clock,
	    .hash = lm_test_key_hash,
	};
	return lm_store_new(&cfg);
}

enum lm_lookup lm_test_get(struct lm_store *s, uint32_t method, const char *key, char *out,
                           size_t outlen)
{
	struct lm_store_req r = lm_test_req(method, key);
	struct lm_entry *e, *stale;
	bool co;
	enum lm_lookup res = lm_store_lookup(s, &r, &e, &co, &stale);
	if (res == LM_LOOKUP_HIT) {
		size_t n;
		const char *v = lm_entry_value(e, &n);
		if (out && outlen) {
			n = n < outlen - 1 ? n : outlen - 1;
			memcpy(out, v, n);
			out[n] = 0;
		}
		lm_entry_release(s, e);
	} else if (res == LM_LOOKUP_MISS) {
		if (stale)
			lm_entry_unref(s, stale);
		lm_store_abandon(s, &r);
	}
	return res;
}

int lm_test_set(struct lm_store *s, uint32_t method, const char *key, const char *val, int64_t ttl)
{
	struct lm_store_req r = lm_test_req(method, key);
	struct lm_entry *e, *stale;
	bool co;
	enum lm_lookup res = lm_store_lookup(s, &r, &e, &co, &stale);
	if (res == LM_LOOKUP_HIT)
		lm_entry_release(s, e);
	if (res != LM_LOOKUP_MISS)
		return -1;
	if (stale)
		lm_entry_unref(s, stale);
	return lm_store_fill(s, &r, val, strlen(val), ttl);
}
