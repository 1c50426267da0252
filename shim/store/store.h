/* The local store: a sharded, bounded hash table of (method, key) -> value
 * blobs, with TTLs, S3-FIFO eviction, generations for invalidation and
 * per-key coalescing of concurrent misses.
 *
 * No global lock: each shard has its own, which writers take. A hit takes
 * none and writes no shared memory: it reads the table inside a read
 * section (reclaim.h) that keeps the entry valid until lm_entry_release.
 * Keys and values are opaque bytes to the store; the dispatcher's plan
 * gives them meaning. */
#ifndef LM_STORE_H
#define LM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
/* XXH3 inlined: the same hash as libxxhash's, without a call on the hit
 * path. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "shim/base/clock.h"

/* A TTL or an expiry that never comes (the config's `never`). */
#define LM_STORE_NEVER INT64_MAX

struct lm_store;
struct lm_entry;

struct lm_store_cfg {
	uint64_t max_entries;               /* across all methods */
	uint64_t max_memory;                /* bytes: keys + values + overhead */
	uint32_t nmethods;                  /* method ids are 0 .. nmethods-1 */
	const uint64_t *method_max_entries; /* per method, 0 = no own bound; may be NULL */
	unsigned nshards;                   /* power of two; 0 picks one from max_entries */
	int64_t (*now_ms)(void);            /* NULL: lm_clock_ms; tests inject their own */
	/* The hash every key is filed under: each hash a caller passes (a
	 * request's, a drop's, a put's) must be this of the key. NULL:
	 * lm_key_hash; tests inject their own to make collisions. */
	uint64_t (*hash)(const void *key, uint32_t klen);
	int64_t coalesce_wait_ms; /* longest wait for a concurrent miss before
	                             running uncoalesced; 0: 5 s */
};

/* The hash every caller files a key under: lookups, fills, drops, drops
 * pushed by another process, persisted entries. One definition, so that
 * they can never disagree. */
static inline uint64_t lm_key_hash(const void *key, uint32_t klen)
{
	return XXH3_64bits(key, klen);
}

struct lm_store *lm_store_new(const struct lm_store_cfg *cfg);
/* Only at exit or in tests: no thread may be inside the store. */
void lm_store_free(struct lm_store *s);

/* One lookup-and-fill cycle. Lives in the caller's frame between
 * lm_store_lookup and lm_store_fill / lm_store_abandon. */
struct lm_store_req {
	/* in */
	uint32_t method;
	uint64_t hash;
	const void *key;
	uint32_t klen;
	bool coalesce;    /* wait for a concurrent miss on the same key */
	int64_t stale_ms; /* stale_if_error window: keep and return expired
	                     entries younger than this past their expiry */
	bool hold;        /* a hit is kept across calls: a reference, released
	                     by lm_entry_unref, instead of a read section */
	bool probed;      /* lm_store_get just missed: skip its probe */
	/* out: the store's clock (ms) as a miss's lookup read it, 0 if it did
	 * not; the fill takes the expiry from it, so a miss reads it once */
	int64_t now_ms;
	/* out: private to the store */
	void *pending;
	uint64_t gen[3];
};

enum lm_lookup {
	LM_LOOKUP_HIT,     /* *entry is valid until lm_entry_release (or, with
	                      hold, lm_entry_unref) */
	LM_LOOKUP_MISS,    /* run the function, then fill or abandon */
	LM_LOOKUP_RECURSE, /* this thread is already computing this key: run
	                      the function uncached; no fill or abandon */
};

/* Look the key up. On LM_LOOKUP_HIT, *coalesced says the caller waited for
 * another thread's miss; the thread is then in a read section until
 * lm_entry_release: replay the value and release it before anything that
 * could block or call into the store again (sections nest, but a long one
 * holds back the freeing of every removed entry). On LM_LOOKUP_MISS with
 * stale_ms > 0, *stale may hold a referenced expired entry (lm_entry_unref
 * it). */
enum lm_lookup lm_store_lookup(struct lm_store *s, struct lm_store_req *r, struct lm_entry **entry,
                               bool *coalesced, struct lm_entry **stale);

/* The hit path alone, with no lock and no write to shared memory: true
 * with *entry pinned as lm_store_lookup's hits are (release it), false on
 * any miss, which lm_store_lookup then settles. Ignores hold. */
bool lm_store_get(struct lm_store *s, const struct lm_store_req *r, struct lm_entry **entry);

/* The counter that copies of METHOD's entries kept outside the store (the
 * dispatcher's per-thread caches) are checked against. Every drop that can
 * remove an entry of METHOD moves it after the entries are gone, so a copy
 * from a lookup or fill that began after reading the counter is valid while
 * the counter still holds the value read. Lives as long as the store. */
const uint64_t *lm_store_copy_epoch(const struct lm_store *s, uint32_t method);
static inline uint64_t lm_store_copy_epoch_now(const struct lm_store *s, uint32_t method)
{
	return __atomic_load_n(lm_store_copy_epoch(s, method), __ATOMIC_ACQUIRE);
}

/* Store the result of a miss for TTL_MS (LM_STORE_NEVER: no expiry; <= 0:
 * not stored) and wake the waiters. Not stored when an invalidation ran
 * since the lookup (guarantee 4) or when the bounds leave no room.
 * Returns 1 stored, 0 not stored. */
int lm_store_fill(struct lm_store *s, struct lm_store_req *r, const void *val, size_t vlen,
                  int64_t ttl_ms);

/* A miss that stores nothing: wake the waiters, who retry. */
void lm_store_abandon(struct lm_store *s, struct lm_store_req *r);

const void *lm_entry_value(const struct lm_entry *e, size_t *len);
const void *lm_entry_key(const struct lm_entry *e, uint32_t *klen);
uint32_t lm_entry_method(const struct lm_entry *e);
int64_t lm_entry_expires_ms(const struct lm_entry *e); /* LM_STORE_NEVER: none */
/* End the read section of a hit (not held). */
void lm_entry_release(struct lm_store *s, struct lm_entry *e);
/* Drop the reference of a held hit or of a stale entry. */
void lm_entry_unref(struct lm_store *s, struct lm_entry *e);

/* Invalidation. Each returns the number of entries dropped, and makes sure
 * no miss that looked up before it can store afterwards. */
size_t lm_store_drop_key(struct lm_store *s, uint32_t method, uint64_t hash, const void *key,
                         uint32_t klen);
typedef bool (*lm_key_pred)(const void *key, uint32_t klen, void *arg);
size_t lm_store_drop_match(struct lm_store *s, uint32_t method, lm_key_pred pred, void *arg);
size_t lm_store_drop_method(struct lm_store *s, uint32_t method);
size_t lm_store_drop_all(struct lm_store *s);

/* Per-method numbers the store keeps (spec section 5). */
struct lm_store_mstats {
	uint64_t entries, bytes;
	uint64_t expired, evicted, invalidated;
};
void lm_store_method_stats(const struct lm_store *s, uint32_t method, struct lm_store_mstats *out);
void lm_store_totals(const struct lm_store *s, uint64_t *entries, uint64_t *bytes);
/* The bytes the store holds against max_memory: its entries and those
 * removed but not yet freed (a reader may still hold them). */
uint64_t lm_store_memory(const struct lm_store *s);

/* Every live entry, shard by shard, for persistence. CB must not call
 * back into the store. */
typedef void (*lm_entry_cb)(const struct lm_entry *e, void *arg);
void lm_store_each(struct lm_store *s, lm_entry_cb cb, void *arg);

/* Insert an entry as loaded from a persisted file, with its absolute
 * expiry (lm_clock_ms time base). Returns 1 stored, 0 not. */
int lm_store_put(struct lm_store *s, uint32_t method, uint64_t hash, const void *key, uint32_t klen,
                 const void *val, size_t vlen, int64_t expires_ms);

#endif
