/* The host tier's table: open addressing over fixed slots, each read as a
 * copy under its sequence counter and checked against its checksum, each
 * written by the one process that moved its counter from even to odd.
 * A writer that died mid-write leaves an odd counter; after
 * LM_HOST_ABANDON_MS another writer takes the slot over. A slot written
 * by a writer that was thought dead and woke up fails its checksum: a
 * miss, never a torn value. Eviction is a clock over the probe window:
 * a hit sets a slot's bit (only when clear, so a hot entry's line is not
 * written on each hit), a fill passes over set bits once, clearing them. */
#include <string.h>
#include <sys/mman.h>
#include <xxhash.h>

#include "host_layout.h"
#include "shim/base/clock.h"

#define LOAD(p)   __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define BUMP(p)   __atomic_add_fetch((p), 1, __ATOMIC_SEQ_CST)
#define NEVER     INT64_MAX
#define DATA_OFF  __builtin_offsetof(struct lm_host_slot, data)
#define SLOT_DATA (LM_HOST_SLOT_BYTES - DATA_OFF)

void lm_host_method_init(struct lm_host_method *hm, const char *name, uint64_t fp)
{
	hm->mhash = XXH3_64bits(name, strlen(name));
	hm->fp = fp;
	hm->mb = (uint32_t)(hm->mhash >> 56) % LM_HOST_MBUCKETS;
}

static inline uint32_t kbucket(uint64_t mhash, uint64_t khash)
{
	return (uint32_t)(((khash ^ mhash) * 0x9e3779b97f4a7c15ull) >> 52) % LM_HOST_KBUCKETS;
}

static inline uint64_t home_of(const struct lm_host *h, uint64_t khash)
{
	return (uint64_t)(((unsigned __int128)khash * h->nslots) >> 64);
}

const uint64_t *lm_host_l1gen(const struct lm_host *h, const struct lm_host_method *hm)
{
	return &h->hdr->l1gen[hm->mb];
}

static uint64_t slot_sum(const struct lm_host_slot *s)
{
	return XXH3_64bits((const unsigned char *)s + LM_HOST_SUM_OFF,
	                   DATA_OFF - LM_HOST_SUM_OFF + (size_t)s->klen + s->vlen);
}

/* Copy SRC into DST under its counter. True when the copy is stable and
 * whole: bounded lengths and a matching checksum. A slot being written is
 * not waited for. */
static bool read_slot(const struct lm_host_slot *src, struct lm_host_slot *dst)
{
	uint64_t s1 = LOAD(&src->seq);
	if (s1 & 1)
		return false;
	memcpy(dst, src, DATA_OFF);
	size_t n = (size_t)dst->klen + dst->vlen;
	if (n > SLOT_DATA)
		return false;
	memcpy(dst->data, src->data, n);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&src->seq, __ATOMIC_RELAXED) != s1)
		return false;
	return dst->sum == slot_sum(dst);
}

static bool same_key(const struct lm_host_slot *c, const struct lm_host_method *hm, uint64_t khash,
                     const void *key, uint32_t klen)
{
	return c->state == LM_HS_LIVE && c->hash == khash && c->mhash == hm->mhash &&
	       c->fp == hm->fp && c->klen == klen && memcmp(c->data, key, klen) == 0;
}

/* A copy whose generations are the header's now and whose time is not up. */
static bool current(const struct lm_host *h, const struct lm_host_slot *c, int64_t now)
{
	uint32_t mb = (uint32_t)(c->mhash >> 56) % LM_HOST_MBUCKETS;
	return c->state == LM_HS_LIVE && c->mgen == LOAD(&h->hdr->mgen[mb]) &&
	       c->kgen == LOAD(&h->hdr->kgen[kbucket(c->mhash, c->hash)]) &&
	       (c->expires_ms == NEVER || c->expires_ms > now);
}

static void take_ticket(const struct lm_host *h, const struct lm_host_method *hm, uint64_t khash,
                        struct lm_host_ticket *t)
{
	t->mgen = LOAD(&h->hdr->mgen[hm->mb]);
	t->kgen = LOAD(&h->hdr->kgen[kbucket(hm->mhash, khash)]);
}

int lm_host_get(struct lm_host *h, const struct lm_host_method *hm, uint64_t khash, const void *key,
                uint32_t klen, struct lm_buf *out, int64_t *expires_ms, struct lm_host_ticket *t)
{
	take_ticket(h, hm, khash, t);
	if (klen > SLOT_DATA)
		return 0;
	uint64_t home = home_of(h, khash);
	struct lm_host_slot c;
	for (uint64_t i = 0; i < LM_HOST_PROBE; i++) {
		struct lm_host_slot *s = &h->slots[(home + i) % h->nslots];
		if (__atomic_load_n(&s->hash, __ATOMIC_RELAXED) != khash)
			continue;
		if (!read_slot(s, &c) || !same_key(&c, hm, khash, key, klen))
			continue;
		if (c.mgen != t->mgen || c.kgen != t->kgen ||
		    (c.expires_ms != NEVER && lm_clock_reached(c.expires_ms)))
			return 0;
		if (lm_buf_append(out, c.data + klen, c.vlen) != 0)
			return 0;
		if (!__atomic_load_n(&s->ref, __ATOMIC_RELAXED))
			__atomic_store_n(&s->ref, 1, __ATOMIC_RELAXED);
		*expires_ms = c.expires_ms;
		return 1;
	}
	return 0;
}

/* Move S's counter to odd for us: its value, or 0 when the slot is held by
 * a live writer or another writer won. */
static uint64_t claim(struct lm_host_slot *s, int64_t now)
{
	uint64_t q = LOAD(&s->seq);
	uint64_t mine = q + 1;
	if (q & 1) {
		/* a time ahead of ours is no writer's: garbage, taken over */
		int64_t at = __atomic_load_n(&s->claimed_ms, __ATOMIC_RELAXED);
		if (at <= now && now - at <= LM_HOST_ABANDON_MS)
			return 0;
		mine = q + 2; /* its writer is gone: the slot is ours */
	}
	if (!__atomic_compare_exchange_n(&s->seq, &q, mine, false, __ATOMIC_ACQ_REL,
	                                 __ATOMIC_RELAXED))
		return 0;
	__atomic_store_n(&s->claimed_ms, now, __ATOMIC_RELAXED);
	return mine;
}

/* Write the covered part of N (its sum computed here) into S, held as
 * MINE, and publish it. */
static void publish(struct lm_host_slot *s, struct lm_host_slot *n, uint64_t mine)
{
	n->sum = slot_sum(n);
	__atomic_store_n(&s->ref, 0, __ATOMIC_RELAXED);
	memcpy((unsigned char *)s + 16, (const unsigned char *)n + 16,
	       DATA_OFF - 16 + (size_t)n->klen + n->vlen);
	/* fails only when our claim was taken over: the new holder writes */
	__atomic_compare_exchange_n(&s->seq, &mine, mine + 1, false, __ATOMIC_RELEASE,
	                            __ATOMIC_RELAXED);
}

/* Where a fill goes: the slot holding the key, else a free or dead one,
 * else the clock's choice. *EVICTS: a current entry is replaced. */
static uint64_t choose(struct lm_host *h, const struct lm_host_method *hm, uint64_t khash,
                       const void *key, uint32_t klen, int64_t now, bool *evicts)
{
	uint64_t home = home_of(h, khash), free_i = UINT64_MAX;
	struct lm_host_slot c;
	for (uint64_t i = 0; i < LM_HOST_PROBE; i++) {
		uint64_t idx = (home + i) % h->nslots;
		bool whole = read_slot(&h->slots[idx], &c);
		if (whole && same_key(&c, hm, khash, key, klen)) {
			*evicts = false;
			return idx;
		}
		if (free_i == UINT64_MAX && (!whole || !current(h, &c, now)))
			free_i = idx;
	}
	*evicts = free_i == UINT64_MAX;
	if (!*evicts)
		return free_i;
	for (uint64_t i = 0; i < LM_HOST_PROBE; i++) {
		uint64_t idx = (home + i) % h->nslots;
		struct lm_host_slot *s = &h->slots[idx];
		if (!__atomic_load_n(&s->ref, __ATOMIC_RELAXED))
			return idx;
		__atomic_store_n(&s->ref, 0, __ATOMIC_RELAXED);
	}
	return home;
}

int lm_host_set(struct lm_host *h, const struct lm_host_method *hm, uint64_t khash, const void *key,
                uint32_t klen, const void *val, size_t vlen, int64_t ttl_ms,
                const struct lm_host_ticket *t)
{
	if ((size_t)klen + vlen > SLOT_DATA || ttl_ms <= 0)
		return 0;
	struct lm_host_ticket now_t;
	take_ticket(h, hm, khash, &now_t);
	if (now_t.mgen != t->mgen || now_t.kgen != t->kgen)
		return 0; /* dropped since the lookup: the result may be older */
	int64_t now = lm_clock_ms();
	bool evicts;
	uint64_t idx = choose(h, hm, khash, key, klen, now, &evicts);
	struct lm_host_slot *s = &h->slots[idx];
	uint64_t mine = claim(s, now);
	if (!mine)
		return 0;
	struct lm_host_slot n = {
	    .hash = khash,
	    .mhash = hm->mhash,
	    .fp = hm->fp,
	    .mgen = t->mgen,
	    .kgen = t->kgen,
	    .expires_ms = ttl_ms == NEVER ? NEVER : now + ttl_ms,
	    .klen = (uint16_t)klen,
	    .vlen = (uint16_t)vlen,
	    .state = LM_HS_LIVE,
	};
	memcpy(n.data, key, klen);
	memcpy(n.data + klen, val, vlen);
	publish(s, &n, mine);
	if (evicts)
		__atomic_add_fetch(&h->hdr->evictions, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&h->hdr->stores, 1, __ATOMIC_RELAXED);
	return 1;
}

size_t lm_host_drop_key(struct lm_host *h, const struct lm_host_method *hm, uint64_t khash,
                        const void *key, uint32_t klen)
{
	/* The generation first: from here on no fill that looked up before
	 * can land, and the entry is dead whatever becomes of its slot. */
	BUMP(&h->hdr->kgen[kbucket(hm->mhash, khash)]);
	BUMP(&h->hdr->l1gen[hm->mb]);
	uint64_t home = home_of(h, khash);
	struct lm_host_slot c;
	int64_t now = lm_clock_ms();
	for (uint64_t i = 0; i < LM_HOST_PROBE; i++) {
		struct lm_host_slot *s = &h->slots[(home + i) % h->nslots];
		if (!read_slot(s, &c) || !same_key(&c, hm, khash, key, klen))
			continue;
		uint64_t mine = claim(s, now);
		if (!mine)
			return 1;
		struct lm_host_slot tomb = {.hash = khash, .mhash = hm->mhash, .state = LM_HS_TOMB};
		publish(s, &tomb, mine);
		return 1;
	}
	return 0;
}

void lm_host_drop_method(struct lm_host *h, const struct lm_host_method *hm)
{
	BUMP(&h->hdr->mgen[hm->mb]);
	BUMP(&h->hdr->l1gen[hm->mb]);
}

void lm_host_drop_all(struct lm_host *h)
{
	for (uint32_t b = 0; b < LM_HOST_MBUCKETS; b++) {
		BUMP(&h->hdr->mgen[b]);
		BUMP(&h->hdr->l1gen[b]);
	}
}

void lm_host_stats(const struct lm_host *h, struct lm_host_stats *out)
{
	*out = (struct lm_host_stats){
	    .size = h->size,
	    .slots = h->nslots,
	    .slot_bytes = SLOT_DATA,
	    .evictions = __atomic_load_n(&h->hdr->evictions, __ATOMIC_RELAXED),
	    .stores = __atomic_load_n(&h->hdr->stores, __ATOMIC_RELAXED),
	};
	/* Only pages some process wrote are read: reading a hole of the
	 * tmpfs file would allocate it, and one dump would make the whole
	 * mapping resident (64 MiB by default) for every process on the host. */
	enum { PAGE = 4096, PER_PAGE = PAGE / LM_HOST_SLOT_BYTES, CHUNK = 256 };
	unsigned char vec[CHUNK];
	struct lm_host_slot c;
	int64_t now = lm_clock_ms();
	uint64_t pages = (h->nslots + PER_PAGE - 1) / PER_PAGE;
	for (uint64_t p0 = 0; p0 < pages; p0 += CHUNK) {
		uint64_t n = pages - p0 < CHUNK ? pages - p0 : CHUNK;
		if (mincore(&h->slots[p0 * PER_PAGE], n * PAGE, vec) != 0)
			memset(vec, 1, sizeof vec); /* cannot tell: read them */
		for (uint64_t p = 0; p < n; p++) {
			if (!(vec[p] & 1))
				continue;
			uint64_t end = (p0 + p + 1) * PER_PAGE;
			for (uint64_t i = (p0 + p) * PER_PAGE; i < end && i < h->nslots; i++)
				if (read_slot(&h->slots[i], &c) && current(h, &c, now))
					out->entries++;
		}
	}
}
