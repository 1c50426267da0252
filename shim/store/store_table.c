/* The store's per-shard hash table: open addressing with linear probing,
 * backward-shift deletion (no tombstones) and 8-byte slots holding the
 * entry pointer tagged with 16 hash bits. At a load factor kept between
 * 3/8 and 3/4 that is 11-21 bytes per entry, against uthash's 56-byte
 * handle; see store.c. Keys are compared in full: tag, method, length and
 * bytes. An entry's home slot comes from t->hash of its key.
 *
 * Writers hold the shard lock; every slot store is atomic so that
 * lock-free readers (lm_table_get) see either the old or the new word. A
 * backward shift copies an entry into the hole before clearing its old
 * slot, so a reader may see it twice, or miss it while it moves: misses
 * are confirmed under the lock. */
#include <stdlib.h>
#include <string.h>

#include "slab.h"
#include "store_internal.h"

#define LM_TABLE_MIN 16
/* Entries fetched ahead while a table is copied into a larger one. */
#define LM_REHASH_AHEAD 8

static inline size_t slots_bytes(size_t cap)
{
	return sizeof(struct lm_slots) + cap * sizeof(((struct lm_slots *)0)->s[0]);
}

static inline bool slot_matches(uint64_t slot, uint64_t hash)
{
	return (slot & ~LM_SLOT_PTR) == (hash & ~LM_SLOT_PTR);
}

static inline void slot_set(struct lm_slots *a, size_t i, uint64_t v)
{
	atomic_store_explicit(&a->s[i], v, memory_order_release);
}

long lm_table_find(const struct lm_table *t, uint32_t method, uint64_t hash, const void *key,
                   uint32_t klen)
{
	const struct lm_slots *a = lm_table_arr(t);
	if (!a)
		return -1;
	for (size_t i = hash & a->mask;; i = (i + 1) & a->mask) {
		uint64_t slot = lm_table_slot(a, i);
		if (!slot)
			return -1;
		if (!slot_matches(slot, hash))
			continue;
		const struct lm_entry *e = lm_slot_entry(slot);
		if (e->method == method && e->klen == klen && memcmp(e->data, key, klen) == 0)
			return (long)i;
	}
}

long lm_table_find_entry(const struct lm_table *t, const struct lm_entry *e)
{
	const struct lm_slots *a = lm_table_arr(t);
	if (!a)
		return -1;
	for (size_t i = t->hash(e->data, e->klen) & a->mask;; i = (i + 1) & a->mask) {
		uint64_t slot = lm_table_slot(a, i);
		if (!slot)
			return -1;
		if (lm_slot_entry(slot) == e)
			return (long)i;
	}
}

static void place(struct lm_slots *a, struct lm_entry *e, uint64_t hash)
{
	size_t i = hash & a->mask;
	while (lm_table_slot(a, i))
		i = (i + 1) & a->mask;
	slot_set(a, i, (hash & ~LM_SLOT_PTR) | (uint64_t)(uintptr_t)e);
}

bool lm_table_reserve(struct lm_table *t, struct lm_slots **old)
{
	struct lm_slots *a = lm_table_arr(t);
	*old = NULL;
	size_t cap = a ? a->mask + 1 : 0;
	if (a && (t->used + 1) * 4 <= cap * 3)
		return true;
	size_t ncap = cap ? cap * 2 : LM_TABLE_MIN;
	if (ncap > ((size_t)1 << 40))
		return false;
	struct lm_slots *na = lm_big_zalloc(slots_bytes(ncap));
	if (!na)
		return false;
	na->mask = ncap - 1;
	for (size_t i = 0; i < cap; i++) {
		/* Every key is read again to hash it, each a cache miss in a large
		 * table: fetch a few entries ahead so that the misses overlap. */
		uint64_t next =
		    i + LM_REHASH_AHEAD < cap ? lm_table_slot(a, i + LM_REHASH_AHEAD) : 0;
		if (next)
			__builtin_prefetch(lm_slot_entry(next)->data);
		uint64_t slot = lm_table_slot(a, i);
		if (slot) {
			struct lm_entry *e = lm_slot_entry(slot);
			place(na, e, t->hash(e->data, e->klen));
		}
	}
	atomic_store_explicit(&t->arr, na, memory_order_release);
	atomic_store_explicit(&t->rmask, na->mask, memory_order_release);
	t->sweep = 0;
	*old = a;
	return true;
}

void lm_table_insert(struct lm_table *t, struct lm_entry *e, uint64_t hash)
{
	place(lm_table_arr(t), e, hash);
	t->used++;
}

void lm_table_delete(struct lm_table *t, size_t idx)
{
	struct lm_slots *a = lm_table_arr(t);
	size_t i = idx, j = idx;
	for (;;) {
		j = (j + 1) & a->mask;
		uint64_t slot = lm_table_slot(a, j);
		if (!slot)
			break;
		const struct lm_entry *e = lm_slot_entry(slot);
		size_t home = t->hash(e->data, e->klen) & a->mask;
		/* The entry at j may fill the hole at i only if its home is
		 * not cyclically within (i, j]. */
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		slot_set(a, i, slot);
		i = j;
	}
	slot_set(a, i, 0);
	t->used--;
}

void lm_slots_free(struct lm_slots *a)
{
	if (a)
		lm_big_free(a, slots_bytes(a->mask + 1));
}

void lm_table_free(struct lm_table *t)
{
	lm_slots_free(lm_table_arr(t));
	*t = (struct lm_table){.hash = t->hash};
}
