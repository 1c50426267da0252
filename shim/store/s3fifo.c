/* S3-FIFO eviction for one shard (Yang et al., SOSP'23), chosen because it
 * needs no work on a hit beyond a 2-bit counter and resists scans.
 *
 * - New entries enter the small FIFO, or the main FIFO when their hash is
 *   in the ghost FIFO (evicted from small recently, so seen twice).
 * - A hit sets freq = min(freq + 1, 3); nothing moves.
 * - Evicting: while small holds >= 10% of the shard, look at its head: with
 *   freq > 0 it moves to main (freq - 1), else it is evicted and its hash
 *   goes to the ghost. Otherwise look at main's head: with freq > 0 it is
 *   reinserted at the tail with freq - 1, else evicted.
 * - An expired entry met at a queue head is taken first, whatever its freq. */
#include <stdlib.h>

#include "shim/base/assert.h"
#include "store_internal.h"

static void q_push(struct lm_queue *q, struct lm_entry *e)
{
	e->next = NULL;
	e->prev = q->tail;
	if (q->tail)
		q->tail->next = e;
	else
		q->head = e;
	q->tail = e;
	q->n++;
}

static void q_unlink(struct lm_queue *q, struct lm_entry *e)
{
	LM_ASSERT(q->n > 0);
	LM_ASSERT(e->prev ? e->prev->next == e : q->head == e);
	LM_ASSERT(e->next ? e->next->prev == e : q->tail == e);
	if (e->prev)
		e->prev->next = e->next;
	else
		q->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		q->tail = e->prev;
	e->prev = e->next = NULL;
	q->n--;
}

static uint32_t ghost_fp(uint64_t hash)
{
	/* Mixed so that the filter index does not reuse the bits that chose
	 * the shard or the table slot. */
	return (uint32_t)((hash * UINT64_C(0x9E3779B97F4A7C15)) >> 32) | 1;
}

static bool ghost_has(const struct lm_ghost *g, uint64_t hash)
{
	if (!g->set)
		return false;
	uint32_t fp = ghost_fp(hash);
	for (uint32_t i = fp & g->smask; g->set[i]; i = (i + 1) & g->smask)
		if (g->set[i] == fp)
			return true;
	return false;
}

/* The set is a multiset under linear probing: a key evicted twice within
 * the window is in it twice, and each ring slot removes one copy. */
static void ghost_set_remove(struct lm_ghost *g, uint32_t fp)
{
	uint32_t i = fp & g->smask;
	while (g->set[i] != fp) {
		if (!g->set[i])
			return;
		i = (i + 1) & g->smask;
	}
	for (uint32_t j = i;;) {
		j = (j + 1) & g->smask;
		uint32_t v = g->set[j];
		if (!v)
			break;
		uint32_t home = v & g->smask;
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		g->set[i] = v;
		i = j;
	}
	g->set[i] = 0;
}

static void ghost_add(struct lm_ghost *g, uint64_t hash)
{
	if (!g->ring) {
		if (!g->want)
			return;
		/* Allocated only once the shard evicts: a cache that never
		 * fills pays nothing for it. */
		g->ring = calloc(g->want, sizeof(*g->ring));
		g->set = calloc((size_t)g->want * 2, sizeof(*g->set));
		if (!g->ring || !g->set) {
			free(g->ring);
			free(g->set);
			g->ring = NULL;
			g->set = NULL;
			g->want = 0;
			return;
		}
		g->n = g->want;
		g->smask = g->want * 2 - 1;
	}
	uint32_t old = g->ring[g->pos];
	if (old)
		ghost_set_remove(g, old);
	uint32_t fp = ghost_fp(hash);
	g->ring[g->pos] = fp;
	uint32_t i = fp & g->smask;
	while (g->set[i])
		i = (i + 1) & g->smask;
	g->set[i] = fp;
	g->pos = (g->pos + 1) & (g->n - 1);
}

void lm_policy_init(struct lm_policy *p, uint32_t ghost_entries, lm_hash_fn hash)
{
	*p = (struct lm_policy){.hash = hash};
	p->ghost.want = ghost_entries;
}

void lm_policy_free(struct lm_policy *p)
{
	free(p->ghost.ring);
	free(p->ghost.set);
	*p = (struct lm_policy){0};
}

void lm_policy_admit(struct lm_policy *p, struct lm_entry *e, uint64_t hash)
{
	LM_ASSERT(e->queue == LM_Q_NONE);
	lm_set_freq(e, 0);
	if (ghost_has(&p->ghost, hash)) {
		e->queue = LM_Q_MAIN;
		q_push(&p->main, e);
	} else {
		e->queue = LM_Q_SMALL;
		q_push(&p->small, e);
	}
}

void lm_policy_unlink(struct lm_policy *p, struct lm_entry *e)
{
	LM_ASSERT(e->queue == LM_Q_NONE || e->queue == LM_Q_SMALL || e->queue == LM_Q_MAIN);
	if (e->queue == LM_Q_SMALL)
		q_unlink(&p->small, e);
	else if (e->queue == LM_Q_MAIN)
		q_unlink(&p->main, e);
	e->queue = LM_Q_NONE;
}

static bool expired(const struct lm_entry *e, int64_t now)
{
	return e->expires_ms != LM_STORE_NEVER && e->expires_ms <= now;
}

struct lm_entry *lm_policy_victim(struct lm_policy *p, int64_t now)
{
	for (;;) {
		struct lm_entry *e;
		if (p->small.head && (p->small.n * 10 >= p->small.n + p->main.n || !p->main.head)) {
			e = p->small.head;
			if (expired(e, now))
				return e;
			unsigned f = lm_freq(e);
			if (f) {
				q_unlink(&p->small, e);
				lm_set_freq(e, f - 1);
				e->queue = LM_Q_MAIN;
				q_push(&p->main, e);
				continue;
			}
			ghost_add(&p->ghost, p->hash(e->data, e->klen));
			return e;
		}
		e = p->main.head;
		if (!e)
			return NULL;
		unsigned f = lm_freq(e);
		if (expired(e, now) || !f)
			return e;
		q_unlink(&p->main, e);
		lm_set_freq(e, f - 1);
		q_push(&p->main, e);
	}
}

static struct lm_entry *oldest_of(struct lm_queue *q, uint32_t method, int64_t now,
                                  struct lm_entry **any)
{
	for (struct lm_entry *e = q->head; e; e = e->next) {
		if (e->method != method)
			continue;
		if (!lm_freq(e) || expired(e, now))
			return e;
		if (!*any)
			*any = e;
	}
	return NULL;
}

struct lm_entry *lm_policy_victim_of(struct lm_policy *p, uint32_t method, int64_t now)
{
	/* The oldest cold entry of the method, small queue first; failing
	 * that its oldest entry at all. Walks the queues: only used when a
	 * per-method bound is full, and only on shards holding the method. */
	struct lm_entry *any = NULL;
	struct lm_entry *e = oldest_of(&p->small, method, now, &any);
	if (!e)
		e = oldest_of(&p->main, method, now, &any);
	return e ? e : any;
}
