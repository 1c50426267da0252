/* The store's per-shard hash table: open addressing with linear probing,
 * backward-shift deletion (no tombstones) and 8-byte slots holding the
 * entry pointer tagged with 16 hash bits. At a load factor kept between
 * 3/8 and 3/4 that is 11-21 bytes per entry, against uthash's 56-byte
 * handle; see store.c. Keys are compared in full: tag, method, length and
 * bytes. An entry's home slot comes from t->hash of its key. */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

#define LM_TABLE_MIN 16

static inline bool slot_matches(uint64_t slot, uint64_t hash)
{
	return (slot & ~LM_SLOT_PTR) == (hash & ~LM_SLOT_PTR);
}

long lm_table_find(const struct lm_table *t, uint32_t method, uint64_t hash, const void *key,
                   uint32_t klen)
{
	if (!t->slots)
		return -1;
	for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
		uint64_t slot = t->slots[i];
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
	if (!t->slots)
		return -1;
	for (size_t i = t->hash(e->data, e->klen) & t->mask;; i = (i + 1) & t->mask) {
		uint64_t slot = t->slots[i];
		if (!slot)
			return -1;
		if (lm_slot_entry(slot) == e)
			return (long)i;
	}
}

static void place(uint64_t *slots, size_t mask, struct lm_entry *e, uint64_t hash)
{
	size_t i = hash & mask;
	while (slots[i])
		i = (i + 1) & mask;
	slots[i] = (hash & ~LM_SLOT_PTR) | (uint64_t)(uintptr_t)e;
}

bool lm_table_reserve(struct lm_table *t)
{
	size_t cap = t->slots ? t->mask + 1 : 0;
	if (t->slots && (t->used + 1) * 4 <= cap * 3)
		return true;
	size_t ncap = cap ? cap * 2 : LM_TABLE_MIN;
	if (ncap > ((size_t)1 << 40))
		return false;
	uint64_t *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return false;
	for (size_t i = 0; i < cap; i++)
		if (t->slots[i]) {
			struct lm_entry *e = lm_slot_entry(t->slots[i]);
			place(ns, ncap - 1, e, t->hash(e->data, e->klen));
		}
	free(t->slots);
	t->slots = ns;
	t->mask = ncap - 1;
	t->sweep = 0;
	return true;
}

void lm_table_insert(struct lm_table *t, struct lm_entry *e, uint64_t hash)
{
	place(t->slots, t->mask, e, hash);
	t->used++;
}

void lm_table_delete(struct lm_table *t, size_t idx)
{
	size_t i = idx, j = idx;
	for (;;) {
		j = (j + 1) & t->mask;
		uint64_t slot = t->slots[j];
		if (!slot)
			break;
		const struct lm_entry *e = lm_slot_entry(slot);
		size_t home = t->hash(e->data, e->klen) & t->mask;
		/* The entry at j may fill the hole at i only if its home is
		 * not cyclically within (i, j]. */
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		t->slots[i] = slot;
		i = j;
	}
	t->slots[i] = 0;
	t->used--;
}

void lm_table_free(struct lm_table *t)
{
	free(t->slots);
	*t = (struct lm_table){.hash = t->hash};
}
