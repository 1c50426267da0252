/* The store's private types, shared by store.c (API, bounds, generations,
 * coalescing), store_table.c (the per-shard hash table) and s3fifo.c (the
 * per-shard eviction policy). Everything here runs under the shard lock,
 * except lm_table_get and lm_policy_touch (lock-free readers). */
#ifndef LM_STORE_INTERNAL_H
#define LM_STORE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shim/arch/x86_64/futex.h"
#include "store.h"

enum { LM_Q_NONE, LM_Q_SMALL, LM_Q_MAIN };

/* How the store hashes a key (lm_store_cfg.hash): entries do not keep
 * their hash; the table and the policy recompute it when they need it
 * (growing, deleting, evicting), which is rarer than memory is dear. */
typedef uint64_t (*lm_hash_fn)(const void *key, uint32_t klen);

/* 40 bytes, then the key (padded to 8 so the value is aligned), then the
 * value. Immutable once published, except: the queue links and queue
 * (shard lock), refs (atomic), and freq, which lock-free readers raise with
 * a plain store while it is below its cap. Once unlinked, the links hold
 * the retire list and the stamp; readers never read the links. */
struct lm_entry {
	union {
		struct {
			struct lm_entry *prev, *next; /* FIFO queue links */
		};
		struct {
			struct lm_entry *rnext; /* retire list */
			uint64_t stamp;         /* lm_rcu_stamp when retired */
		};
	};
	int64_t expires_ms; /* LM_STORE_NEVER: none */
	uint32_t method;
	_Atomic uint16_t refs; /* the table's reference + one per holder */
	uint8_t freq;          /* S3-FIFO: 0..3, bumped on hit (relaxed atomics) */
	uint8_t queue;         /* LM_Q_* */
	uint32_t klen;
	uint32_t vlen;
	unsigned char data[];
};
_Static_assert(sizeof(struct lm_entry) == 40, "the entry header the README counts");

static inline unsigned lm_freq(const struct lm_entry *e)
{
	return __atomic_load_n(&e->freq, __ATOMIC_RELAXED);
}

static inline void lm_set_freq(struct lm_entry *e, unsigned f)
{
	__atomic_store_n(&e->freq, (uint8_t)f, __ATOMIC_RELAXED);
}

#define LM_MAX_METHODS (1u << 24)

static inline size_t lm_pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* ---- Table: open addressing, linear probing, tagged 8-byte slots ------- */

/* A slot is the entry pointer (48 bits on x86-64) with the top 16 bits of
 * the hash above it, so most mismatching probes never touch the entry. */
#define LM_SLOT_PTR ((UINT64_C(1) << 48) - 1)

static inline struct lm_entry *lm_slot_entry(uint64_t slot)
{
	return (struct lm_entry *)(uintptr_t)(slot & LM_SLOT_PTR);
}

/* A slot array. Readers may still probe one the table outgrew: it is
 * retired like an entry. */
struct lm_slots {
	struct lm_slots *rnext; /* retire list */
	uint64_t stamp;
	size_t mask;
	_Atomic uint64_t s[];
};

/* Writers change a table under the shard lock; lm_table_get reads it with
 * no lock at all: slots are published with release stores after the entry
 * they point to is complete, and an entry or array a reader may hold is
 * freed only after a grace period (reclaim.h). */
struct lm_table {
	lm_hash_fn hash;
	_Atomic(struct lm_slots *) arr; /* NULL until the first insert */
	/* arr's mask for lock-free readers, on the shard's line: reading it
	 * from the array's header cost a hit one more cache miss in a large
	 * store. Stored after arr when the table grows and read before it,
	 * so a reader's mask is never larger than its array's. */
	_Atomic size_t rmask;
	size_t used;
	size_t sweep; /* expiry sweep cursor */
};

static inline struct lm_slots *lm_table_arr(const struct lm_table *t)
{
	return atomic_load_explicit(&t->arr, memory_order_relaxed);
}

static inline uint64_t lm_table_slot(const struct lm_slots *a, size_t i)
{
	return atomic_load_explicit(&a->s[i], memory_order_relaxed);
}

/* Slot index of the key, or -1 (shard lock held). */
long lm_table_find(const struct lm_table *t, uint32_t method, uint64_t hash, const void *key,
                   uint32_t klen);
long lm_table_find_entry(const struct lm_table *t, const struct lm_entry *e);

/* Keys of one or two words (most scalar keys) compare without a call. */
static inline bool lm_key_same(const unsigned char *a, const void *b, uint32_t n)
{
	if (n < 8 || n > 16)
		return memcmp(a, b, n) == 0;
	uint64_t x0, y0, x1, y1;
	memcpy(&x0, a, 8);
	memcpy(&y0, b, 8);
	memcpy(&x1, a + n - 8, 8);
	memcpy(&y1, (const unsigned char *)b + n - 8, 8);
	return ((x0 ^ y0) | (x1 ^ y1)) == 0;
}

/* The entry of the key, without the lock, inside a read section. May miss
 * an entry that a concurrent deletion is shifting: a miss is confirmed
 * under the lock. */
static inline struct lm_entry *lm_table_get(const struct lm_table *t, uint32_t method,
                                            uint64_t hash, const void *key, uint32_t klen)
{
	size_t mask = atomic_load_explicit(&t->rmask, memory_order_acquire);
	const struct lm_slots *a = atomic_load_explicit(&t->arr, memory_order_acquire);
	if (!a)
		return NULL;
	size_t i = hash & mask;
	for (size_t n = 0; n <= mask; n++, i = (i + 1) & mask) {
		uint64_t slot = atomic_load_explicit(&a->s[i], memory_order_acquire);
		if (!slot)
			return NULL;
		if ((slot ^ hash) & ~LM_SLOT_PTR)
			continue;
		struct lm_entry *e = lm_slot_entry(slot);
		if (e->method == method && e->klen == klen && lm_key_same(e->data, key, klen))
			return e;
	}
	return NULL;
}

/* Make room for one more entry (grow if needed); false on OOM. *OLD: an
 * outgrown array to retire, else NULL. */
bool lm_table_reserve(struct lm_table *t, struct lm_slots **old);
/* HASH: the entry's key hash, as t->hash gives it. */
void lm_table_insert(struct lm_table *t, struct lm_entry *e, uint64_t hash);
void lm_table_delete(struct lm_table *t, size_t idx);
/* Only when no reader can be in the table. */
void lm_table_free(struct lm_table *t);
/* An array no reader can hold any more. */
void lm_slots_free(struct lm_slots *a);

/* ---- S3-FIFO policy ---------------------------------------------------- */

struct lm_queue {
	struct lm_entry *head, *tail; /* head = oldest */
	size_t n;
};

/* Recently evicted hashes: a FIFO ring of 32-bit fingerprints and an
 * open-addressing set of the same fingerprints (load <= 1/2) to test
 * membership. 12 bytes per ghost; an approximate filter of that size let
 * too many one-off keys into main (measured: -5 points on a scan trace). */
struct lm_ghost {
	uint32_t *ring;
	uint32_t *set;
	uint32_t n, pos, smask;
	uint32_t want; /* ring size to allocate at the first eviction; 0 = none */
};

struct lm_policy {
	struct lm_queue small, main;
	struct lm_ghost ghost;
	lm_hash_fn hash; /* the ghost remembers evicted keys by hash */
};

void lm_policy_init(struct lm_policy *p, uint32_t ghost_entries, lm_hash_fn hash);
void lm_policy_free(struct lm_policy *p);
void lm_policy_admit(struct lm_policy *p, struct lm_entry *e, uint64_t hash);
void lm_policy_unlink(struct lm_policy *p, struct lm_entry *e);
/* The next entry to evict (still linked: the caller removes it), or NULL
 * when the shard is empty. Expired entries found on the way come first.
 * Moves entries between queues as S3-FIFO does. */
struct lm_entry *lm_policy_victim(struct lm_policy *p, int64_t now);
/* Same, restricted to one method (for the per-method bound). */
struct lm_entry *lm_policy_victim_of(struct lm_policy *p, uint32_t method, int64_t now);

/* A hit: a store only while below the cap, so that a hot entry's line
 * stops being written after its first hits. A bump lost to a race with
 * the policy is harmless. */
static inline void lm_policy_touch(struct lm_entry *e)
{
	unsigned f = lm_freq(e);
	if (f < 3)
		lm_set_freq(e, f + 1);
}

/* ---- Shard: table, policy and coalescing markers under one lock ------- */

/* Key room of a recyclable marker, and spare markers kept per shard. */
#define LM_PENDING_KEY 64
#define LM_SPARE_MAX   4

/* A miss's coalescing marker. Linked on its shard's pending list from the
 * miss to the fill (or abandon); then recycled on the spare list, or freed
 * by the last of its references. */
struct lm_pending {
	struct lm_pending *next; /* shard's pending list */
	_Atomic uint32_t done;   /* futex word: 1 once the owner finished */
	_Atomic uint32_t refs;   /* list + owner + each waiter */
	uint32_t forkgen;
	uint32_t method;
	uint32_t klen;
	bool linked;
	bool spare_sized; /* room for LM_PENDING_KEY key bytes: recyclable */
	const void *owner;
	uint64_t hash;
	uint64_t gen[3];
	unsigned char key[];
};

struct lm_shard {
	struct lm_lock lock;
	_Atomic uint64_t gen;
	struct lm_table table;
	struct lm_policy pol;
	struct lm_pending *pending;
	struct lm_pending *spare; /* finished markers for reuse, via next */
	uint32_t nspare;
	uint32_t *mcount; /* entries per method in this shard */
	size_t nexpiring; /* entries with an expiry: none, no sweep */
} __attribute__((aligned(64)));

/* Debug builds (LM_DEBUG): walk SH and abort on the first broken
 * invariant of its queues, table, counts and markers (store_check.c).
 * Lock held; NMETHODS is the store's. Gone from release builds. */
#ifdef LM_DEBUG
void lm_shard_check(const struct lm_shard *sh, uint32_t nmethods);
#define LM_SHARD_CHECK(sh, nmethods) lm_shard_check(sh, nmethods)
#else
#define LM_SHARD_CHECK(sh, nmethods) ((void)0)
#endif

#endif
