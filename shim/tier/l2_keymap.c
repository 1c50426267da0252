/* From a Redis key name's hash back to the key bytes this process may hold
 * in L1. An invalidation message names Redis keys only; without this map a
 * write by any process anywhere under the namespace would have to drop a
 * whole method here. Bounded: entries leave in insertion order, and one
 * that leaves has its L1 copy dropped, so every L1 entry of a shared
 * method stays covered. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "l2_internal.h"

/* uthash must fail an insertion on OOM rather than exit the program. */
static int km_oom;
#define HASH_NONFATAL_OOM      1
#define uthash_nonfatal_oom(e) (km_oom = 1)
#include <uthash.h>

struct km_id {
	uint32_t method, pad;
	uint64_t hi, lo;
};

struct km_entry {
	struct km_id id;
	UT_hash_handle hh;
	struct km_entry *next; /* victims, once out of the table */
	uint32_t klen;
	unsigned char key[];
};

struct lm_keymap {
	pthread_mutex_t lock;
	struct km_entry *table;
	uint64_t count, bytes, max_entries, max_bytes;
	lm_l2_invalidate_fn inv;
	void *arg;
};

struct lm_keymap *lm_keymap_new(uint64_t max_entries, uint64_t max_bytes, lm_l2_invalidate_fn inv,
                                void *arg)
{
	struct lm_keymap *km = calloc(1, sizeof *km);
	if (!km)
		return NULL;
	pthread_mutex_init(&km->lock, NULL);
	km->max_entries = max_entries ? max_entries : 1;
	km->max_bytes = max_bytes;
	km->inv = inv;
	km->arg = arg;
	return km;
}

void lm_keymap_free(struct lm_keymap *km)
{
	if (!km)
		return;
	/* HASH_CLEAR leaves the elements' own links alone. */
	struct km_entry *e = km->table;
	HASH_CLEAR(hh, km->table);
	while (e) {
		struct km_entry *next = e->hh.next;
		free(e);
		e = next;
	}
	pthread_mutex_destroy(&km->lock);
	free(km);
}

static size_t entry_bytes(uint32_t klen)
{
	return sizeof(struct km_entry) + klen;
}

static void unlink_entry(struct lm_keymap *km, struct km_entry *e)
{
	HASH_DEL(km->table, e);
	km->count--;
	km->bytes -= entry_bytes(e->klen);
}

/* Outside the lock: the callback takes the store's locks. */
static void drop_victims(struct lm_keymap *km, struct km_entry *v)
{
	while (v) {
		struct km_entry *next = v->next;
		if (km->inv)
			km->inv(km->arg, v->id.method, v->key, v->klen);
		free(v);
		v = next;
	}
}

static struct km_id make_id(uint32_t method, struct lm_l2_hash h)
{
	struct km_id id;
	memset(&id, 0, sizeof id);
	id.method = method;
	id.hi = h.hi;
	id.lo = h.lo;
	return id;
}

void lm_keymap_note(struct lm_keymap *km, uint32_t method, struct lm_l2_hash h, const void *key,
                    uint32_t klen)
{
	struct km_id id = make_id(method, h);
	struct km_entry *e, *victims = NULL;
	pthread_mutex_lock(&km->lock);
	HASH_FIND(hh, km->table, &id, sizeof id, e);
	if (e) {
		pthread_mutex_unlock(&km->lock);
		return;
	}
	e = malloc(entry_bytes(klen));
	if (e) {
		e->id = id;
		e->klen = klen;
		e->next = NULL;
		memcpy(e->key, key, klen);
		km_oom = 0;
		HASH_ADD(hh, km->table, id, sizeof id, e);
		if (km_oom) {
			free(e);
			e = NULL;
		} else {
			km->count++;
			km->bytes += entry_bytes(klen);
		}
	}
	/* Oldest first; never the entry just added. */
	while (km->table && km->table != e &&
	       (km->count > km->max_entries || (km->max_bytes && km->bytes > km->max_bytes))) {
		struct km_entry *v = km->table;
		unlink_entry(km, v);
		v->next = victims;
		victims = v;
	}
	pthread_mutex_unlock(&km->lock);
	drop_victims(km, victims);
	/* Not remembered: an invalidation could not find it, so it must not
	 * stay in L1 either. */
	if (!e && km->inv)
		km->inv(km->arg, method, key, klen);
}

void lm_keymap_invalidate(struct lm_keymap *km, uint32_t method, struct lm_l2_hash h)
{
	struct km_id id = make_id(method, h);
	struct km_entry *e;
	pthread_mutex_lock(&km->lock);
	HASH_FIND(hh, km->table, &id, sizeof id, e);
	if (e) {
		unlink_entry(km, e);
		e->next = NULL;
	}
	pthread_mutex_unlock(&km->lock);
	drop_victims(km, e);
}

void lm_keymap_invalidate_method(struct lm_keymap *km, uint32_t method)
{
	struct km_entry *e, *tmp, *gone = NULL;
	pthread_mutex_lock(&km->lock);
	HASH_ITER(hh, km->table, e, tmp)
	{
		/* cppcheck-suppress uninitvar ; HASH_ITER sets e first */
		if (method == LM_L2_ALL || e->id.method == method) {
			unlink_entry(km, e);
			e->next = gone;
			gone = e;
		}
	}
	pthread_mutex_unlock(&km->lock);
	while (gone) {
		e = gone->next;
		free(gone);
		gone = e;
	}
	if (km->inv)
		km->inv(km->arg, method, NULL, 0);
}

void lm_keymap_lock(struct lm_keymap *km)
{
	pthread_mutex_lock(&km->lock);
}

void lm_keymap_unlock(struct lm_keymap *km)
{
	pthread_mutex_unlock(&km->lock);
}

uint64_t lm_keymap_count(struct lm_keymap *km)
{
	pthread_mutex_lock(&km->lock);
	uint64_t n = km->count;
	pthread_mutex_unlock(&km->lock);
	return n;
}
