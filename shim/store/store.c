/* The local store: bounds, generations, coalescing, fork and the API.
 *
 * Layout. The store is split into shards (power of two, chosen from the
 * bounds) picked by hash bits 32 and up; each shard has one futex lock, its
 * own hash table (store_table.c) and its own S3-FIFO queues (s3fifo.c).
 * Nothing on lookup or fill takes a global lock; the global and per-method
 * counters are atomics, so stats can be read from a signal handler.
 *
 * Table choice. uthash costs a 56-byte handle per entry; the table here is
 * open addressing with 8-byte tagged slots at a load of 3/8..3/4, i.e.
 * 11-21 bytes per entry, which with the 56-byte entry header keeps the
 * overhead near 72 bytes (uthash would need over 100).
 *
 * Entries. Key and value sit inline after the header; an entry is
 * immutable once in the table. A hit takes no lock and writes nothing
 * shared: it probes the table inside a read section (reclaim.h) and the
 * entry stays valid until lm_entry_release ends it, so a value is replayed
 * in place. Removed entries and outgrown slot arrays go to the store's
 * retire list and are freed after a grace period, in batches; their bytes
 * count against max_memory until then, and a reservation that finds the
 * bound full reclaims before it evicts. Holders that keep an entry across
 * a call (a stale_if_error candidate, verify mode) take a reference
 * instead, so that a slow function never holds back reclamation.
 *
 * Eviction policy: S3-FIFO per shard (see s3fifo.c). Expired entries are
 * reclaimed first: every insert sweeps a few table slots, and eviction
 * takes expired entries it meets before anything else.
 *
 * Bounds. max_entries, max_memory (charged per entry: header + padded key
 * + value + LM_SLOT_CHARGE for its share of the table) and the per-method
 * bounds are reserved with compare-and-swap before an entry is inserted,
 * so they hold at every instant. When full, the shard evicts its own
 * entries (of the same method when the per-method bound is the one hit);
 * when it has nothing left to evict, one other shard is asked for one
 * victim; failing that the result is not stored.
 *
 * Invalidation. A global, per-method and per-shard generation; lookup
 * snapshots them into the request, fill stores only if none moved (checked
 * under the shard lock). Drops bump the generation first and then remove
 * the matching entries eagerly, shard by shard under each lock, so gauges
 * stay exact and a fill that passed its check before the bump is removed
 * by the scan that follows it.
 *
 * Coalescing. A miss with coalesce set leaves a pending marker (owner,
 * generation snapshot, fork generation, futex word) in the shard's pending
 * list. Other lookups of the key wait on the futex (bounded by
 * coalesce_wait_ms, so a lost owner or a cross-key deadlock degrades to an
 * uncoalesced miss, never a hang), then look again. A marker whose
 * generations or fork generation moved is ignored and replaced.
 *
 * A miss nobody waited for must cost no more than two shard locks: the
 * owner wakes the futex only when waiters hold the marker (see
 * pending_finish_locked for why no wake-up is lost), and markers for keys
 * up to LM_PENDING_KEY bytes come from a small per-shard spare list instead
 * of malloc.
 *
 * fork. pthread_atfork handlers lock every shard of every store before
 * fork and release them after, so the child's copy is consistent; the
 * child bumps the fork generation so markers of threads that no longer
 * exist are ignored, and forgets the read sections of those threads. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reclaim.h"
#include "shim/base/assert.h"
#include "shim/base/clock.h"
#include "shim/base/guard.h"
#include "slab.h"
#include "store_internal.h"

/* Each entry's share of table slots: an 8-byte slot at a load of at least
 * 3/8 (store_table.c) is at most 21.3 bytes. */
#define LM_SLOT_CHARGE     22
#define LM_DEFAULT_WAIT_MS 5000
#define LM_SWEEP_INSERT    4
#define LM_SWEEP_EVICT     16
/* Removed entries gathered before a grace period is waited for: one
 * membarrier call per batch. */
#define LM_RECLAIM_BATCH 256
/* A hold count at this many fails instead of wrapping (refs is 16 bits). */
#define LM_REFS_MAX 0xff00

struct lm_mstate {
	uint64_t max_entries; /* 0: none */
	_Atomic uint64_t gen;
	_Atomic uint64_t copy_epoch; /* lm_store_copy_epoch */
	_Atomic int64_t stale_ms;    /* last stale_if_error window seen: sweeps spare it */
	_Atomic uint64_t entries, bytes, expired, evicted, invalidated;
};

/* Shards a store may have (lm_store_cfg.nshards is capped there). */
#define LM_MAX_SHARDS 1024

struct lm_store {
	struct lm_store *next; /* fork registry */
	struct lm_shard *shards;
	unsigned nshards;
	uint32_t nmethods;
	uint64_t max_entries, max_memory;
	int64_t (*now)(void);
	lm_hash_fn hash;
	uint32_t ghost; /* ghost entries of a shard's policy */
	/* A bit per shard prepared (shard_lock), apart from the shards: a
	 * walk reads it without faulting in the page of a shard never used. */
	_Atomic uint64_t prepared[LM_MAX_SHARDS / 64];
	int64_t wait_ms;
	_Atomic uint64_t entries, bytes; /* bytes: live and retired until freed */
	_Atomic uint64_t retired;        /* bytes removed but not yet freed */
	_Atomic uint64_t gen;
	struct lm_mstate *m;
	uint32_t *mcounts;
	struct lm_lock rc_lock; /* the retire lists */
	struct lm_entry *rc_ents;
	struct lm_slots *rc_arrs;
	size_t rc_n;
};

enum cause { C_REPLACED, C_EXPIRED, C_EVICTED, C_INVALIDATED };
enum ins { INS_OK, INS_FAIL, INS_FULL, INS_FULL_METHOD };

/* The address of a thread-local names the running thread without a call. */
static __thread char lm_self;
static _Atomic uint32_t lm_fork_gen;
static struct lm_lock lm_reg_lock;
static struct lm_store *lm_reg_head;
static pthread_once_t lm_reg_once = PTHREAD_ONCE_INIT;

/* ---- fork ---------------------------------------------------------------- */

/* The forking thread holds every shard lock from prepare to parent/child:
 * marked as inside the shim, so that a memoized call from a signal
 * handler meanwhile runs uncached instead of waiting for a lock this
 * thread holds (issue 16). */
static void fork_prepare(void)
{
	lm_guard_enter();
	lm_lock(&lm_reg_lock);
	for (struct lm_store *s = lm_reg_head; s; s = s->next) {
		for (unsigned i = 0; i < s->nshards; i++)
			lm_lock(&s->shards[i].lock);
		lm_lock(&s->rc_lock);
	}
	lm_slab_fork_prepare();
}

static void fork_parent(void)
{
	lm_slab_fork_parent();
	for (struct lm_store *s = lm_reg_head; s; s = s->next) {
		lm_unlock(&s->rc_lock);
		for (unsigned i = 0; i < s->nshards; i++)
			lm_unlock(&s->shards[i].lock);
	}
	lm_unlock(&lm_reg_lock);
	lm_guard_leave();
}

static void fork_child(void)
{
	atomic_fetch_add_explicit(&lm_fork_gen, 1, memory_order_relaxed);
	lm_rcu_after_fork();
	lm_slab_fork_child();
	for (struct lm_store *s = lm_reg_head; s; s = s->next) {
		lm_lock_reset(&s->rc_lock);
		for (unsigned i = 0; i < s->nshards; i++)
			lm_lock_reset(&s->shards[i].lock);
	}
	lm_lock_reset(&lm_reg_lock);
	lm_guard_leave();
}

static void register_atfork(void)
{
	lm_rcu_init();
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* ---- helpers ------------------------------------------------------------- */

static inline struct lm_shard *shard_of(const struct lm_store *s, uint64_t hash)
{
	return &s->shards[(hash >> 32) & (s->nshards - 1)];
}

/* A shard is prepared at its first lock, not when the store is made: its
 * pages are then touched only by a program that calls a method (a page
 * fault each, tens of microseconds in a VM; 64 shards are three pages).
 * One not yet prepared is all zeros, which a lock-free reader takes for
 * an empty table. */
static void shard_prepare(struct lm_store *s, struct lm_shard *sh)
{
	size_t i = (size_t)(sh - s->shards);
	lm_policy_init(&sh->pol, s->ghost, s->hash);
	sh->table.hash = s->hash;
	sh->mcount = s->mcounts + i * (s->nmethods ? s->nmethods : 1);
	atomic_fetch_or_explicit(&s->prepared[i / 64], UINT64_C(1) << (i % 64),
	                         memory_order_release);
}

/* Whether SH was ever locked: one that was not holds no entry, and a walk
 * that only reads or removes entries (but for drops, which move its
 * generation, and fork, which must hold every lock) skips it rather than
 * fault its page in. One being prepared meanwhile is empty too. */
static inline bool shard_used(const struct lm_store *s, const struct lm_shard *sh)
{
	size_t i = (size_t)(sh - s->shards);
	return atomic_load_explicit(&s->prepared[i / 64], memory_order_acquire) >> (i % 64) & 1;
}

static inline void shard_lock(struct lm_store *s, struct lm_shard *sh)
{
	lm_lock(&sh->lock);
	if (__builtin_expect(!shard_used(s, sh), 0))
		shard_prepare(s, sh);
}

static inline uint64_t charge_of(uint32_t klen, uint64_t vlen)
{
	return sizeof(struct lm_entry) + lm_pad8(klen) + vlen + LM_SLOT_CHARGE;
}

static inline uint64_t entry_charge(const struct lm_entry *e)
{
	return charge_of(e->klen, e->vlen);
}

static inline size_t entry_size(uint32_t klen, size_t vlen)
{
	return sizeof(struct lm_entry) + lm_pad8(klen) + vlen;
}

static void entry_free(struct lm_entry *e)
{
	lm_slab_free(e, entry_size(e->klen, e->vlen));
}

static struct lm_entry *entry_new(uint32_t method, const void *key, uint32_t klen, const void *val,
                                  size_t vlen)
{
	if (vlen > UINT32_MAX)
		return NULL;
	struct lm_entry *e = lm_slab_alloc(entry_size(klen, vlen));
	if (!e)
		return NULL;
	/* The table packs 16 hash bits above the pointer. */
	if ((uintptr_t)e & ~(uintptr_t)LM_SLOT_PTR) {
		lm_slab_free(e, entry_size(klen, vlen));
		return NULL;
	}
	*e = (struct lm_entry){.method = method, .klen = klen, .vlen = (uint32_t)vlen};
	atomic_init(&e->refs, 1);
	e->freq = 0;
	if (klen)
		memcpy(e->data, key, klen);
	if (vlen)
		memcpy(e->data + lm_pad8(klen), val, vlen);
	return e;
}

/* Drop a reference to a removed entry; the last frees it and its bytes. */
static void entry_unref(struct lm_store *s, struct lm_entry *e)
{
	uint16_t refs = atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel);
	LM_ASSERT(refs >= 1);
	if (refs != 1)
		return;
	uint64_t charge = entry_charge(e);
	atomic_fetch_sub_explicit(&s->retired, charge, memory_order_relaxed);
	atomic_fetch_sub_explicit(&s->bytes, charge, memory_order_relaxed);
	entry_free(e);
}

/* A reference for a holder that keeps E beyond its read section. */
static bool entry_hold(struct lm_entry *e)
{
	uint16_t refs = atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
	/* Found in a read section: the table's or the retire list's
	 * reference is still there. */
	LM_ASSERT(refs >= 1);
	if (refs < LM_REFS_MAX)
		return true;
	atomic_fetch_sub_explicit(&e->refs, 1, memory_order_relaxed);
	return false;
}

/* Free what no reader can hold any more (rc_lock held). */
static void reclaim_locked(struct lm_store *s)
{
	if (!s->rc_ents && !s->rc_arrs)
		return;
	uint64_t oldest = lm_rcu_oldest();
	struct lm_entry **ep = &s->rc_ents;
	while (*ep) {
		struct lm_entry *e = *ep;
		if (e->stamp < oldest) {
			*ep = e->rnext;
			s->rc_n--;
			entry_unref(s, e);
		} else {
			ep = &e->rnext;
		}
	}
	struct lm_slots **ap = &s->rc_arrs;
	while (*ap) {
		struct lm_slots *a = *ap;
		if (a->stamp < oldest) {
			*ap = a->rnext;
			lm_slots_free(a);
		} else {
			ap = &a->rnext;
		}
	}
}

static void reclaim(struct lm_store *s)
{
	lm_lock(&s->rc_lock);
	reclaim_locked(s);
	lm_unlock(&s->rc_lock);
}

/* E is out of the table and its queue: free it once no reader can hold
 * it. */
static void retire_entry(struct lm_store *s, struct lm_entry *e)
{
	LM_ASSERT(e->queue == LM_Q_NONE);
	e->stamp = lm_rcu_stamp();
	lm_lock(&s->rc_lock);
	e->rnext = s->rc_ents;
	s->rc_ents = e;
	if (++s->rc_n >= LM_RECLAIM_BATCH)
		reclaim_locked(s);
	lm_unlock(&s->rc_lock);
}

static void retire_slots(struct lm_store *s, struct lm_slots *a)
{
	if (!a)
		return;
	a->stamp = lm_rcu_stamp();
	lm_lock(&s->rc_lock);
	a->rnext = s->rc_arrs;
	s->rc_arrs = a;
	/* As large as all the entries it indexed: not kept for a batch. */
	reclaim_locked(s);
	lm_unlock(&s->rc_lock);
}

/* Drop N references to P at once. */
static void pending_release(struct lm_pending *p, uint32_t n)
{
	uint32_t refs = atomic_fetch_sub_explicit(&p->refs, n, memory_order_acq_rel);
	LM_ASSERT(refs >= n);
	if (refs == n)
		free(p);
}

/* A lock-free hit may serve E: from the clock words (lm_clock_reached)
 * unless a test gave the store its own clock. */
static inline bool servable(const struct lm_store *s, const struct lm_entry *e)
{
	if (e->expires_ms == LM_STORE_NEVER)
		return true;
	return s->now == lm_clock_ms ? !lm_clock_reached(e->expires_ms) : e->expires_ms > s->now();
}

static inline bool is_expired(const struct lm_entry *e, int64_t now)
{
	return e->expires_ms != LM_STORE_NEVER && e->expires_ms <= now;
}

/* Past its expiry and past any stale_if_error window of its method. */
static bool is_dead(const struct lm_store *s, const struct lm_entry *e, int64_t now)
{
	if (!is_expired(e, now))
		return false;
	int64_t keep = atomic_load_explicit(&s->m[e->method].stale_ms, memory_order_relaxed);
	return now - e->expires_ms >= keep;
}

static bool add_bounded(_Atomic uint64_t *c, uint64_t n, uint64_t max)
{
	uint64_t cur = atomic_load_explicit(c, memory_order_relaxed);
	do {
		if (cur > max || n > max - cur)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(c, &cur, cur + n, memory_order_relaxed,
	                                                memory_order_relaxed));
	return true;
}

static enum ins reserve(struct lm_store *s, struct lm_mstate *m, uint64_t charge)
{
	if (m->max_entries) {
		if (!add_bounded(&m->entries, 1, m->max_entries))
			return INS_FULL_METHOD;
	} else {
		atomic_fetch_add_explicit(&m->entries, 1, memory_order_relaxed);
	}
	if (!add_bounded(&s->entries, 1, s->max_entries)) {
		atomic_fetch_sub_explicit(&m->entries, 1, memory_order_relaxed);
		return INS_FULL;
	}
	if (!add_bounded(&s->bytes, charge, s->max_memory) &&
	    (!atomic_load_explicit(&s->retired, memory_order_relaxed) ||
	     (reclaim(s), !add_bounded(&s->bytes, charge, s->max_memory)))) {
		atomic_fetch_sub_explicit(&s->entries, 1, memory_order_relaxed);
		atomic_fetch_sub_explicit(&m->entries, 1, memory_order_relaxed);
		return INS_FULL;
	}
	atomic_fetch_add_explicit(&m->bytes, charge, memory_order_relaxed);
	return INS_OK;
}

/* Take entry E at table slot IDX out of the shard and drop the table's
 * reference. */
static void remove_at(struct lm_store *s, struct lm_shard *sh, size_t idx, struct lm_entry *e,
                      enum cause cause)
{
	LM_ASSERT(e->queue != LM_Q_NONE && sh->mcount[e->method] > 0);
	LM_ASSERT(e->expires_ms == LM_STORE_NEVER || sh->nexpiring > 0);
	lm_table_delete(&sh->table, idx);
	lm_policy_unlink(&sh->pol, e);
	sh->mcount[e->method]--;
	sh->nexpiring -= e->expires_ms != LM_STORE_NEVER;
	struct lm_mstate *m = &s->m[e->method];
	uint64_t charge = entry_charge(e);
	atomic_fetch_sub_explicit(&s->entries, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->retired, charge, memory_order_relaxed);
	atomic_fetch_sub_explicit(&m->entries, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&m->bytes, charge, memory_order_relaxed);
	if (cause == C_EXPIRED)
		atomic_fetch_add_explicit(&m->expired, 1, memory_order_relaxed);
	else if (cause == C_EVICTED)
		atomic_fetch_add_explicit(&m->evicted, 1, memory_order_relaxed);
	else if (cause == C_INVALIDATED)
		atomic_fetch_add_explicit(&m->invalidated, 1, memory_order_relaxed);
	retire_entry(s, e);
}

static void remove_entry(struct lm_store *s, struct lm_shard *sh, struct lm_entry *e,
                         enum cause cause)
{
	long idx = lm_table_find_entry(&sh->table, e);
	if (idx >= 0)
		remove_at(s, sh, (size_t)idx, e, cause);
}

/* Look at up to BUDGET slots from the sweep cursor and reclaim dead
 * entries. Returns how many were removed. */
static unsigned sweep(struct lm_store *s, struct lm_shard *sh, int64_t now, unsigned budget)
{
	struct lm_table *t = &sh->table;
	struct lm_slots *a = lm_table_arr(t);
	unsigned removed = 0;
	/* Sweeping reads entries (a cache miss each): not when none can
	 * expire. */
	if (!a || !t->used || !sh->nexpiring)
		return 0;
	for (unsigned k = 0; k < budget; k++) {
		size_t i = t->sweep & a->mask;
		uint64_t slot = lm_table_slot(a, i);
		if (slot && is_dead(s, lm_slot_entry(slot), now)) {
			/* Backward shift may refill slot i: look at it again. */
			remove_at(s, sh, i, lm_slot_entry(slot), C_EXPIRED);
			removed++;
			continue;
		}
		t->sweep = i + 1;
	}
	return removed;
}

/* Free one entry's worth of room in SH: any method (METHOD < 0) or one
 * method's entry. Returns false when there is nothing to evict. */
static bool evict_one(struct lm_store *s, struct lm_shard *sh, int64_t now, long method)
{
	if (sweep(s, sh, now, LM_SWEEP_EVICT))
		return true;
	struct lm_entry *e;
	if (method < 0) {
		e = lm_policy_victim(&sh->pol, now);
	} else {
		if (!sh->mcount[method])
			return false;
		e = lm_policy_victim_of(&sh->pol, (uint32_t)method, now);
	}
	if (!e)
		return false;
	remove_entry(s, sh, e, is_expired(e, now) ? C_EXPIRED : C_EVICTED);
	return true;
}

/* Insert E, whose key hashes to HASH, into SH (lock held). Replaces an
 * entry with the same key. */
static enum ins insert_locked(struct lm_store *s, struct lm_shard *sh, struct lm_entry *e,
                              uint64_t hash, int64_t now)
{
	uint64_t charge = entry_charge(e);
	if (charge > s->max_memory || !s->max_entries)
		return INS_FAIL;
	sweep(s, sh, now, LM_SWEEP_INSERT);
	long old = lm_table_find(&sh->table, e->method, hash, e->data, e->klen);
	if (old >= 0)
		remove_at(s, sh, (size_t)old,
		          lm_slot_entry(lm_table_slot(lm_table_arr(&sh->table), (size_t)old)),
		          C_REPLACED);
	struct lm_slots *outgrown;
	if (!lm_table_reserve(&sh->table, &outgrown))
		return INS_FAIL;
	retire_slots(s, outgrown);
	struct lm_mstate *m = &s->m[e->method];
	for (;;) {
		enum ins r = reserve(s, m, charge);
		if (r == INS_OK)
			break;
		if (!evict_one(s, sh, now, r == INS_FULL_METHOD ? (long)e->method : -1))
			return r;
	}
	lm_table_insert(&sh->table, e, hash);
	lm_policy_admit(&sh->pol, e, hash);
	sh->mcount[e->method]++;
	sh->nexpiring += e->expires_ms != LM_STORE_NEVER;
	return INS_OK;
}

/* Make room in some shard other than OWN (whose lock is not held). */
static bool evict_elsewhere(struct lm_store *s, struct lm_shard *own, long method)
{
	unsigned base = (unsigned)(own - s->shards);
	for (unsigned k = 1; k < s->nshards; k++) {
		struct lm_shard *sh = &s->shards[(base + k) & (s->nshards - 1)];
		if (!shard_used(s, sh))
			continue;
		shard_lock(s, sh);
		bool ok = evict_one(s, sh, s->now(), method);
		LM_SHARD_CHECK(sh, s->nmethods);
		lm_unlock(&sh->lock);
		if (ok)
			return true;
	}
	return false;
}

static void snapshot(const struct lm_store *s, const struct lm_shard *sh, uint32_t method,
                     uint64_t gen[3])
{
	gen[0] = atomic_load_explicit(&s->gen, memory_order_acquire);
	gen[1] = atomic_load_explicit(&s->m[method].gen, memory_order_acquire);
	gen[2] = atomic_load_explicit(&sh->gen, memory_order_acquire);
}

const uint64_t *lm_store_copy_epoch(const struct lm_store *s, uint32_t method)
{
	return (const uint64_t *)&s->m[method].copy_epoch;
}

/* After a drop removed its entries: copies outside the store of what it
 * dropped stop answering (method < 0: every method). */
static void copies_stale(struct lm_store *s, long method)
{
	uint32_t lo = method < 0 ? 0 : (uint32_t)method;
	uint32_t hi = method < 0 ? s->nmethods : lo + 1;
	for (uint32_t i = lo; i < hi; i++)
		atomic_fetch_add_explicit(&s->m[i].copy_epoch, 1, memory_order_release);
}

static bool gens_moved(const struct lm_store *s, const struct lm_shard *sh, uint32_t method,
                       const uint64_t gen[3])
{
	uint64_t now[3];
	snapshot(s, sh, method, now);
	return memcmp(now, gen, sizeof(now)) != 0;
}

/* Take P off the shard's list (lock held). Returns the number of
 * references the list held (0 or 1); the caller drops them. */
static uint32_t pending_unlink(struct lm_shard *sh, struct lm_pending *p)
{
	if (!p->linked)
		return 0;
	for (struct lm_pending **pp = &sh->pending; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	p->linked = false;
	return 1;
}

/* Keep a finished marker nobody else can reach for the next miss of the
 * shard (lock held). */
static void pending_recycle(struct lm_shard *sh, struct lm_pending *p)
{
	LM_ASSERT(!p->linked && atomic_load_explicit(&p->done, memory_order_relaxed));
	if (!p->spare_sized || sh->nspare >= LM_SPARE_MAX) {
		free(p);
		return;
	}
	p->next = sh->spare;
	sh->spare = p;
	sh->nspare++;
}

/* The owner is done with P (lock held): mark it finished. Returns the
 * references to drop after unlocking with pending_wake (the owner's and
 * maybe the list's), or 0 when no waiter holds P: then P is already
 * recycled and there is nobody to wake.
 *
 * Waiters are counted in P->refs, which a waiter raises under this lock
 * before it unlocks and sleeps on P->done. No wake-up can be lost:
 * - the waiter's critical section came first: refs shows it here, and the
 *   owner wakes after unlocking. The waiter is either asleep already
 *   (woken), or not yet in FUTEX_WAIT, which then finds done != 0 and
 *   returns at once, or it reads done == 1 and never sleeps;
 * - the owner's came first: P is off the list, no lookup can find it, and
 *   the waiter-to-be sees the entry or no marker.
 * A waiter leaves (timeout or done) by dropping its reference outside the
 * lock; its release pairs with the acquire below, so when refs shows only
 * the owner's and the list's no waiter touches P any more and P can be
 * reused. A waiter still counted while leaving costs a spare wake, no
 * more. */
static uint32_t pending_finish_locked(struct lm_shard *sh, struct lm_pending *p)
{
	/* Finished once, by its owner, who still holds a reference. */
	LM_ASSERT(!atomic_load_explicit(&p->done, memory_order_relaxed));
	uint32_t n = pending_unlink(sh, p) + 1;
	LM_ASSERT(atomic_load_explicit(&p->refs, memory_order_relaxed) >= n);
	atomic_store_explicit(&p->done, 1, memory_order_release);
	if (atomic_load_explicit(&p->refs, memory_order_acquire) == n) {
		pending_recycle(sh, p);
		return 0;
	}
	return n;
}

/* After unlocking: wake P's waiters and drop N references. Never called
 * with N = 0: then P was recycled and may already be another miss's. */
static void pending_wake(struct lm_pending *p, uint32_t n)
{
	LM_ASSERT(n > 0);
	lm_futex_wake_all(&p->done);
	pending_release(p, n);
}

/* Insert E (its key hashes to HASH) with the expiry given by TTL_MS
 * (relative) or, when ABS, by E->expires_ms; refuse if GEN (may be NULL)
 * moved. Finishes P if any. NOW: the clock as read by the lookup, 0 to
 * read it here. */
static int store_entry(struct lm_store *s, struct lm_entry *e, uint64_t hash, const uint64_t *gen,
                       int64_t ttl_ms, bool abs, struct lm_pending *p, int64_t now)
{
	struct lm_shard *sh = shard_of(s, hash);
	enum ins r = INS_FAIL;
	shard_lock(s, sh);
	for (int attempt = 0;; attempt++) {
		if (attempt > 0 || now == 0)
			now = s->now();
		if (gen && gens_moved(s, sh, e->method, gen))
			break;
		if (!abs)
			e->expires_ms = ttl_ms == LM_STORE_NEVER || now > INT64_MAX - ttl_ms
			                    ? LM_STORE_NEVER
			                    : now + ttl_ms;
		else if (is_expired(e, now))
			break;
		r = insert_locked(s, sh, e, hash, now);
		if ((r != INS_FULL && r != INS_FULL_METHOD) || attempt == 1)
			break;
		lm_unlock(&sh->lock);
		bool freed = evict_elsewhere(s, sh, r == INS_FULL_METHOD ? (long)e->method : -1);
		shard_lock(s, sh);
		if (!freed)
			break;
	}
	uint32_t prefs = p ? pending_finish_locked(sh, p) : 0;
	LM_SHARD_CHECK(sh, s->nmethods);
	lm_unlock(&sh->lock);
	if (prefs)
		pending_wake(p, prefs);
	if (r != INS_OK) {
		entry_free(e);
		return 0;
	}
	return 1;
}

/* ---- lifecycle ----------------------------------------------------------- */

static unsigned pick_nshards(const struct lm_store_cfg *cfg)
{
	if (cfg->nshards && !(cfg->nshards & (cfg->nshards - 1)))
		return cfg->nshards > LM_MAX_SHARDS ? LM_MAX_SHARDS : cfg->nshards;
	/* At least ~256 entries per shard so each runs a meaningful S3-FIFO,
	 * at most 64 shards. */
	uint64_t cap = cfg->max_entries;
	if (cfg->max_memory / 128 < cap)
		cap = cfg->max_memory / 128;
	unsigned n = 1;
	while (n < 64 && (uint64_t)n * 2 * 256 <= cap)
		n *= 2;
	return n;
}

static size_t shards_bytes(const struct lm_store *s)
{
	return sizeof(*s->shards) * s->nshards;
}

struct lm_store *lm_store_new(const struct lm_store_cfg *cfg)
{
	LM_KEEP_ERRNO();
	if (!cfg || cfg->nmethods > LM_MAX_METHODS)
		return NULL;
	pthread_once(&lm_reg_once, register_atfork);
	struct lm_store *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->nshards = pick_nshards(cfg);
	s->nmethods = cfg->nmethods;
	s->max_entries = cfg->max_entries;
	s->max_memory = cfg->max_memory;
	s->now = cfg->now_ms ? cfg->now_ms : lm_clock_ms;
	s->hash = cfg->hash ? cfg->hash : lm_key_hash;
	s->wait_ms = cfg->coalesce_wait_ms > 0 ? cfg->coalesce_wait_ms : LM_DEFAULT_WAIT_MS;
	size_t nm = cfg->nmethods ? cfg->nmethods : 1;
	s->m = calloc(nm, sizeof(*s->m));
	s->mcounts = calloc(nm * s->nshards, sizeof(*s->mcounts));
	/* zero pages, faulted in as shards are prepared */
	s->shards = lm_lazy_zalloc(shards_bytes(s));
	if (!s->m || !s->mcounts || !s->shards) {
		free(s->m);
		free(s->mcounts);
		lm_lazy_free(s->shards, shards_bytes(s));
		free(s);
		return NULL;
	}
	for (uint32_t i = 0; i < cfg->nmethods; i++)
		s->m[i].max_entries = cfg->method_max_entries ? cfg->method_max_entries[i] : 0;
	/* Ghost FIFO about the size of a full shard's main queue. */
	uint64_t cap = cfg->max_entries;
	if (cfg->max_memory / 64 < cap)
		cap = cfg->max_memory / 64;
	cap /= s->nshards;
	s->ghost = 8;
	while (s->ghost < (1u << 20) && s->ghost * 2 <= cap)
		s->ghost *= 2;
	lm_lock(&lm_reg_lock);
	s->next = lm_reg_head;
	lm_reg_head = s;
	lm_unlock(&lm_reg_lock);
	return s;
}

void lm_store_free(struct lm_store *s)
{
	if (!s)
		return;
	lm_lock(&lm_reg_lock);
	for (struct lm_store **pp = &lm_reg_head; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	lm_unlock(&lm_reg_lock);
	for (unsigned i = 0; i < s->nshards; i++) {
		struct lm_shard *sh = &s->shards[i];
		if (!shard_used(s, sh))
			continue;
		struct lm_slots *a = lm_table_arr(&sh->table);
		for (size_t j = 0; a && j <= a->mask; j++)
			if (lm_table_slot(a, j))
				entry_free(lm_slot_entry(lm_table_slot(a, j)));
		lm_table_free(&sh->table);
		lm_policy_free(&sh->pol);
		while (sh->pending) {
			struct lm_pending *p = sh->pending;
			sh->pending = p->next;
			free(p);
		}
		while (sh->spare) {
			struct lm_pending *p = sh->spare;
			sh->spare = p->next;
			free(p);
		}
	}
	while (s->rc_ents) {
		struct lm_entry *e = s->rc_ents;
		s->rc_ents = e->rnext;
		entry_free(e);
	}
	while (s->rc_arrs) {
		struct lm_slots *a = s->rc_arrs;
		s->rc_arrs = a->rnext;
		lm_slots_free(a);
	}
	lm_lazy_free(s->shards, shards_bytes(s));
	free(s->mcounts);
	free(s->m);
	free(s);
}

/* ---- lookup / fill --------------------------------------------------------- */

static struct lm_pending *pending_find(struct lm_shard *sh, const struct lm_store_req *r)
{
	for (struct lm_pending *p = sh->pending; p; p = p->next)
		if (p->hash == r->hash && p->method == r->method && p->klen == r->klen &&
		    memcmp(p->key, r->key, r->klen) == 0)
			return p;
	return NULL;
}

static struct lm_pending *pending_new(struct lm_shard *sh, const struct lm_store_req *r)
{
	bool small = r->klen <= LM_PENDING_KEY;
	struct lm_pending *p;
	if (small && sh->spare) {
		p = sh->spare;
		sh->spare = p->next;
		sh->nspare--;
	} else {
		p = malloc(sizeof(*p) + (small ? LM_PENDING_KEY : r->klen));
		if (!p)
			return NULL;
	}
	*p =
	    (struct lm_pending){.forkgen = atomic_load_explicit(&lm_fork_gen, memory_order_relaxed),
	                        .method = r->method,
	                        .klen = r->klen,
	                        .linked = true,
	                        .spare_sized = small,
	                        .owner = &lm_self,
	                        .hash = r->hash};
	atomic_init(&p->done, 0);
	atomic_init(&p->refs, 2); /* the list and the owner */
	memcpy(p->gen, r->gen, sizeof(p->gen));
	if (r->klen)
		memcpy(p->key, r->key, r->klen);
	p->next = sh->pending;
	sh->pending = p;
	return p;
}

/* Wait (no spinning) until P's owner finishes; false on timeout. The
 * deadline uses the real clock: a test's frozen clock must not hang us. */
static bool pending_wait(const struct lm_store *s, struct lm_pending *p)
{
	int64_t deadline = lm_clock_ms() + s->wait_ms;
	while (!atomic_load_explicit(&p->done, memory_order_acquire)) {
		int64_t left = deadline - lm_clock_ms();
		if (left <= 0)
			return false;
		struct timespec ts = {.tv_sec = left / 1000, .tv_nsec = (left % 1000) * 1000000};
		lm_futex_wait(&p->done, 0, &ts);
	}
	return true;
}

bool lm_store_get(struct lm_store *s, const struct lm_store_req *r, struct lm_entry **entry)
{
	if (!s || r->method >= s->nmethods || !lm_read_enter())
		return false;
	struct lm_shard *sh = shard_of(s, r->hash);
	struct lm_entry *e = lm_table_get(&sh->table, r->method, r->hash, r->key, r->klen);
	if (e && servable(s, e)) {
		lm_policy_touch(e);
		*entry = e;
		return true;
	}
	lm_read_exit();
	return false;
}

/* A hit found inside a read section: kept pinned, or, for a holder,
 * referenced and the section left. A hold that fails answers a miss (the
 * caller runs the function uncoalesced, and stores nothing: no
 * generations). */
static enum lm_lookup pinned_hit(struct lm_store_req *r, struct lm_entry **entry)
{
	if (!r->hold)
		return LM_LOOKUP_HIT;
	bool held = entry_hold(*entry);
	lm_read_exit();
	if (held)
		return LM_LOOKUP_HIT;
	*entry = NULL;
	return LM_LOOKUP_MISS;
}

enum lm_lookup lm_store_lookup(struct lm_store *s, struct lm_store_req *r, struct lm_entry **entry,
                               bool *coalesced, struct lm_entry **stale)
{
	*entry = NULL;
	*coalesced = false;
	if (stale)
		*stale = NULL;
	r->pending = NULL;
	memset(r->gen, 0, sizeof(r->gen));
	r->now_ms = 0;
	if (!s || r->method >= s->nmethods)
		return LM_LOOKUP_MISS;
	struct lm_mstate *m = &s->m[r->method];
	if (r->stale_ms > 0 &&
	    atomic_load_explicit(&m->stale_ms, memory_order_relaxed) != r->stale_ms)
		atomic_store_explicit(&m->stale_ms, r->stale_ms, memory_order_relaxed);
	struct lm_shard *sh = shard_of(s, r->hash);
	/* Without a read section (no memory for the thread's record) nothing
	 * can be returned: a miss whose fill the zero generations refuse. */
	if (!lm_rcu_self && !lm_rcu_register())
		return LM_LOOKUP_MISS;
	if (!r->probed && lm_store_get(s, r, entry))
		return pinned_hit(r, entry);
	/* Absent, expired, or moving under a concurrent deletion: ask again
	 * under the lock, where the miss also leaves its marker. */
	bool waited = false;
	for (;;) {
		shard_lock(s, sh);
		int64_t now = s->now();
		r->now_ms = now;
		struct lm_entry *e = NULL;
		long i = lm_table_find(&sh->table, r->method, r->hash, r->key, r->klen);
		snapshot(s, sh, r->method, r->gen);
		if (i >= 0) {
			e = lm_slot_entry(lm_table_slot(lm_table_arr(&sh->table), (size_t)i));
			if (!is_expired(e, now)) {
				lm_policy_touch(e);
				lm_read_enter(); /* the record exists: cannot fail */
				lm_unlock(&sh->lock);
				*entry = e;
				*coalesced = waited;
				return pinned_hit(r, entry);
			}
			if (!stale || r->stale_ms <= 0 || now - e->expires_ms >= r->stale_ms) {
				remove_at(s, sh, (size_t)i, e, C_EXPIRED);
				e = NULL;
			}
		}
		if (r->coalesce) {
			struct lm_pending *p = pending_find(sh, r);
			if (p && (p->forkgen !=
			              atomic_load_explicit(&lm_fork_gen, memory_order_relaxed) ||
			          memcmp(p->gen, r->gen, sizeof(p->gen)) != 0)) {
				/* Started before an invalidation or a fork: never
				 * joined, replaced by our own marker. */
				pending_release(p, pending_unlink(sh, p));
				p = NULL;
			}
			if (p && p->owner == &lm_self) {
				lm_unlock(&sh->lock);
				return LM_LOOKUP_RECURSE;
			}
			if (p) {
				atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
				lm_unlock(&sh->lock);
				bool done = pending_wait(s, p);
				waited = true;
				if (done) {
					pending_release(p, 1);
					continue;
				}
				/* The owner is taking too long, or is gone (a longjmp
				 * past its call): run uncoalesced, and take the marker
				 * off the list so that no later miss waits for it. */
				shard_lock(s, sh);
				uint32_t n = pending_unlink(sh, p);
				lm_unlock(&sh->lock);
				pending_release(p, n + 1);
				return LM_LOOKUP_MISS;
			}
			r->pending = pending_new(sh, r);
		}
		if (e && entry_hold(e))
			*stale = e;
		LM_SHARD_CHECK(sh, s->nmethods);
		lm_unlock(&sh->lock);
		return LM_LOOKUP_MISS;
	}
}

int lm_store_fill(struct lm_store *s, struct lm_store_req *r, const void *val, size_t vlen,
                  int64_t ttl_ms)
{
	if (!s)
		return 0;
	LM_KEEP_ERRNO();
	struct lm_pending *p = r->pending;
	r->pending = NULL;
	struct lm_shard *sh = shard_of(s, r->hash);
	struct lm_entry *e = NULL;
	if (r->method < s->nmethods && ttl_ms > 0)
		e = entry_new(r->method, r->key, r->klen, val, vlen);
	int stored = 0;
	if (e) {
		stored = store_entry(s, e, r->hash, r->gen, ttl_ms, false, p, r->now_ms);
	} else if (p) {
		shard_lock(s, sh);
		uint32_t prefs = pending_finish_locked(sh, p);
		LM_SHARD_CHECK(sh, s->nmethods);
		lm_unlock(&sh->lock);
		if (prefs)
			pending_wake(p, prefs);
	}
	return stored;
}

void lm_store_abandon(struct lm_store *s, struct lm_store_req *r)
{
	struct lm_pending *p = r->pending;
	r->pending = NULL;
	if (!s || !p)
		return;
	struct lm_shard *sh = shard_of(s, r->hash);
	shard_lock(s, sh);
	uint32_t prefs = pending_finish_locked(sh, p);
	LM_SHARD_CHECK(sh, s->nmethods);
	lm_unlock(&sh->lock);
	if (prefs)
		pending_wake(p, prefs);
}

int lm_store_put(struct lm_store *s, uint32_t method, uint64_t hash, const void *key, uint32_t klen,
                 const void *val, size_t vlen, int64_t expires_ms)
{
	if (!s || method >= s->nmethods)
		return 0;
	LM_KEEP_ERRNO();
	int stored = 0;
	struct lm_entry *e = entry_new(method, key, klen, val, vlen);
	if (e) {
		e->expires_ms = expires_ms;
		stored = store_entry(s, e, hash, NULL, 0, true, NULL, 0);
	}
	return stored;
}

/* ---- entries --------------------------------------------------------------- */

const void *lm_entry_value(const struct lm_entry *e, size_t *len)
{
	*len = e->vlen;
	return e->data + lm_pad8(e->klen);
}

const void *lm_entry_key(const struct lm_entry *e, uint32_t *klen)
{
	*klen = e->klen;
	return e->data;
}

uint32_t lm_entry_method(const struct lm_entry *e)
{
	return e->method;
}

int64_t lm_entry_expires_ms(const struct lm_entry *e)
{
	return e->expires_ms;
}

void lm_entry_release(struct lm_store *s, struct lm_entry *e)
{
	(void)s;
	if (e)
		lm_read_exit();
}

void lm_entry_unref(struct lm_store *s, struct lm_entry *e)
{
	if (e)
		entry_unref(s, e);
}

/* ---- invalidation ---------------------------------------------------------- */

size_t lm_store_drop_key(struct lm_store *s, uint32_t method, uint64_t hash, const void *key,
                         uint32_t klen)
{
	if (!s || method >= s->nmethods)
		return 0;
	struct lm_shard *sh = shard_of(s, hash);
	size_t n = 0;
	shard_lock(s, sh);
	atomic_fetch_add_explicit(&sh->gen, 1, memory_order_acq_rel);
	long i = lm_table_find(&sh->table, method, hash, key, klen);
	if (i >= 0) {
		remove_at(s, sh, (size_t)i,
		          lm_slot_entry(lm_table_slot(lm_table_arr(&sh->table), (size_t)i)),
		          C_INVALIDATED);
		n = 1;
	}
	LM_SHARD_CHECK(sh, s->nmethods);
	lm_unlock(&sh->lock);
	copies_stale(s, method);
	return n;
}

/* Remove the entries of METHOD (< 0: all) that PRED accepts (NULL: all)
 * from every shard, one shard lock at a time. */
/* BUMP: move each shard's generation under its lock, together with the
 * removal, so that no lookup can see the shard between the two. */
static size_t drop_where(struct lm_store *s, long method, lm_key_pred pred, void *arg, bool bump)
{
	size_t n = 0;
	for (unsigned k = 0; k < s->nshards; k++) {
		struct lm_shard *sh = &s->shards[k];
		shard_lock(s, sh);
		if (bump)
			atomic_fetch_add_explicit(&sh->gen, 1, memory_order_acq_rel);
		if (method < 0 || sh->mcount[method]) {
			struct lm_queue *qs[2] = {&sh->pol.small, &sh->pol.main};
			for (int q = 0; q < 2; q++) {
				struct lm_entry *e = qs[q]->head;
				while (e) {
					struct lm_entry *next = e->next;
					if ((method < 0 || e->method == (uint32_t)method) &&
					    (!pred || pred(e->data, e->klen, arg))) {
						remove_entry(s, sh, e, C_INVALIDATED);
						n++;
					}
					e = next;
				}
			}
		}
		LM_SHARD_CHECK(sh, s->nmethods);
		lm_unlock(&sh->lock);
	}
	copies_stale(s, method);
	return n;
}

size_t lm_store_drop_match(struct lm_store *s, uint32_t method, lm_key_pred pred, void *arg)
{
	if (!s || method >= s->nmethods || !pred)
		return 0;
	/* Not the method's generation: that would drop the entries the
	 * predicate spares. Every shard's, each with its removal: in-flight
	 * misses are refused everywhere, stored entries only where they
	 * match. */
	return drop_where(s, method, pred, arg, true);
}

size_t lm_store_drop_method(struct lm_store *s, uint32_t method)
{
	if (!s || method >= s->nmethods)
		return 0;
	atomic_fetch_add_explicit(&s->m[method].gen, 1, memory_order_acq_rel);
	return drop_where(s, method, NULL, NULL, false);
}

size_t lm_store_drop_all(struct lm_store *s)
{
	if (!s)
		return 0;
	atomic_fetch_add_explicit(&s->gen, 1, memory_order_acq_rel);
	return drop_where(s, -1, NULL, NULL, false);
}

/* ---- stats and iteration ----------------------------------------------------- */

void lm_store_method_stats(const struct lm_store *s, uint32_t method, struct lm_store_mstats *out)
{
	*out = (struct lm_store_mstats){0};
	if (!s || method >= s->nmethods)
		return;
	const struct lm_mstate *m = &s->m[method];
	out->entries = atomic_load_explicit(&m->entries, memory_order_relaxed);
	out->bytes = atomic_load_explicit(&m->bytes, memory_order_relaxed);
	out->expired = atomic_load_explicit(&m->expired, memory_order_relaxed);
	out->evicted = atomic_load_explicit(&m->evicted, memory_order_relaxed);
	out->invalidated = atomic_load_explicit(&m->invalidated, memory_order_relaxed);
}

void lm_store_totals(const struct lm_store *s, uint64_t *entries, uint64_t *bytes)
{
	*entries = s ? atomic_load_explicit(&s->entries, memory_order_relaxed) : 0;
	*bytes = s ? atomic_load_explicit(&s->bytes, memory_order_relaxed) -
	                 atomic_load_explicit(&s->retired, memory_order_relaxed)
	           : 0;
}

uint64_t lm_store_memory(const struct lm_store *s)
{
	return s ? atomic_load_explicit(&s->bytes, memory_order_relaxed) : 0;
}

void lm_store_each(struct lm_store *s, lm_entry_cb cb, void *arg)
{
	if (!s || !cb)
		return;
	for (unsigned k = 0; k < s->nshards; k++) {
		struct lm_shard *sh = &s->shards[k];
		if (!shard_used(s, sh))
			continue;
		shard_lock(s, sh);
		int64_t now = s->now();
		for (int q = 0; q < 2; q++)
			for (const struct lm_entry *e = q ? sh->pol.main.head : sh->pol.small.head;
			     e; e = e->next)
				if (!is_expired(e, now))
					cb(e, arg);
		LM_SHARD_CHECK(sh, s->nmethods);
		lm_unlock(&sh->lock);
	}
}
