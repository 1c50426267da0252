/* The debug builds' consistency walk of one shard (store_internal.h).
 * Every operation keeps these invariants under the shard lock; checking
 * them all where the lock is held catches a broken link, count or marker
 * at the operation that broke it, not at a crash much later. Compiled
 * only with LM_DEBUG (the sanitizer runs). */
#ifdef LM_DEBUG
#include "shim/base/assert.h"
#include "store_internal.h"

/* Shards up to this many entries are walked entry by entry; larger ones
 * get the constant-time checks only, or a debug run of a big cache would
 * be quadratic (a walk per fill). */
#define LM_CHECK_WALK_MAX 256

struct tally {
	size_t entries, expiring;
};

/* Q's links both ways, its tag on each entry, its count; each entry is
 * in the table and holds the table's reference. */
static void check_queue(const struct lm_shard *sh, const struct lm_queue *q, unsigned tag,
                        uint32_t nmethods, struct tally *t)
{
	const struct lm_entry *prev = NULL;
	size_t n = 0;
	for (const struct lm_entry *e = q->head; e; prev = e, e = e->next) {
		LM_ASSERT(n < q->n); /* no cycle, no entry beyond the count */
		LM_ASSERT(e->prev == prev);
		LM_ASSERT(e->queue == tag);
		LM_ASSERT(atomic_load_explicit(&e->refs, memory_order_relaxed) >= 1);
		LM_ASSERT(lm_freq(e) <= 3);
		LM_ASSERT(e->method < nmethods);
		LM_ASSERT(lm_table_find_entry(&sh->table, e) >= 0);
		t->expiring += e->expires_ms != LM_STORE_NEVER;
		n++;
	}
	LM_ASSERT(q->tail == prev);
	LM_ASSERT(n == q->n);
	t->entries += n;
}

/* Every occupied slot points to a queued entry under its own hash tag,
 * and is reached from its home with no empty slot between. */
static void check_table(const struct lm_table *t)
{
	const struct lm_slots *a = lm_table_arr(t);
	size_t used = 0;
	for (size_t i = 0; a && i <= a->mask; i++) {
		uint64_t slot = lm_table_slot(a, i);
		if (!slot)
			continue;
		const struct lm_entry *e = lm_slot_entry(slot);
		LM_ASSERT(e->queue == LM_Q_SMALL || e->queue == LM_Q_MAIN);
		LM_ASSERT(((slot ^ t->hash(e->data, e->klen)) & ~LM_SLOT_PTR) == 0);
		for (size_t j = t->hash(e->data, e->klen) & a->mask; j != i; j = (j + 1) & a->mask)
			LM_ASSERT(lm_table_slot(a, j));
		used++;
	}
	LM_ASSERT(used == t->used);
}

/* A listed marker is unfinished and held by the list and its owner; a
 * spare one is off the list and big enough to be reused. */
static void check_markers(const struct lm_shard *sh)
{
	for (const struct lm_pending *p = sh->pending; p; p = p->next) {
		LM_ASSERT(p->linked);
		LM_ASSERT(!atomic_load_explicit(&p->done, memory_order_relaxed));
		LM_ASSERT(atomic_load_explicit(&p->refs, memory_order_relaxed) >= 2);
	}
	uint32_t nspare = 0;
	for (const struct lm_pending *p = sh->spare; p; p = p->next) {
		LM_ASSERT(nspare < sh->nspare);
		LM_ASSERT(!p->linked && p->spare_sized);
		nspare++;
	}
	LM_ASSERT(nspare == sh->nspare && nspare <= LM_SPARE_MAX);
}

void lm_shard_check(const struct lm_shard *sh, uint32_t nmethods)
{
	const struct lm_policy *p = &sh->pol;
	size_t queued = p->small.n + p->main.n;
	uint64_t counted = 0;
	for (uint32_t m = 0; m < nmethods; m++)
		counted += sh->mcount[m];
	LM_ASSERT(counted == queued);
	LM_ASSERT(sh->table.used == queued);
	LM_ASSERT(sh->nexpiring <= queued);
	LM_ASSERT(!p->small.head == !p->small.n && !p->main.head == !p->main.n);
	check_markers(sh);
	if (queued > LM_CHECK_WALK_MAX)
		return;
	struct tally t = {0};
	check_queue(sh, &p->small, LM_Q_SMALL, nmethods, &t);
	check_queue(sh, &p->main, LM_Q_MAIN, nmethods, &t);
	LM_ASSERT(t.entries == queued);
	LM_ASSERT(t.expiring == sh->nexpiring);
	check_table(&sh->table);
}
#endif
