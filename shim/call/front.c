#include "front.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shim/base/tpool.h"

__thread struct lm_front_slot *lm_front;
__thread uint32_t lm_front_bits = LM_FRONT_PAIR_BITS;
/* keys a put brought into the cache since it was taken */
static __thread uint32_t t_keys;

static pthread_key_t front_key;
static pthread_once_t front_once = PTHREAD_ONCE_INIT;

static size_t front_bytes(uint32_t bits)
{
	return ((size_t)2 << bits) * sizeof(struct lm_front_slot);
}

/* At thread exit, back to the pool for the next thread. A later
 * destructor that fills a copy takes a block again. */
static void front_free(void *f)
{
	lm_tpool_give(f, front_bytes(lm_front_bits));
	lm_front = NULL;
	lm_front_bits = LM_FRONT_PAIR_BITS;
	t_keys = 0;
}

static void make_key(void)
{
	pthread_key_create(&front_key, front_free);
}

/* An empty cache of 2 << BITS slots in place of the thread's, if any.
 * Allocated on a fill, not a hit: the hit path never allocates. */
static struct lm_front_slot *front_alloc(uint32_t bits)
{
	pthread_once(&front_once, make_key);
	struct lm_front_slot *f = lm_tpool_take(front_bytes(bits));
	if (!f)
		return NULL;
	for (size_t i = 0; i < (size_t)2 << bits; i++)
		f[i].method = UINT32_MAX;
	if (lm_front)
		lm_tpool_give(lm_front, front_bytes(lm_front_bits));
	pthread_setspecific(front_key, f);
	lm_front = f;
	lm_front_bits = bits;
	t_keys = 0;
	return f;
}

void lm_front_put(const uint64_t *epochp, uint32_t method, const void *key, uint32_t klen,
                  const void *val, size_t vlen, int64_t expires_ms, uint64_t epoch)
{
	if (klen + vlen > LM_FRONT_BYTES)
		return;
	struct lm_front_slot *f = lm_front ? lm_front : front_alloc(LM_FRONT_PAIR_BITS);
	if (!f)
		return;
	uint64_t hash = lm_front_hash(method, key, klen);
	/* The pair's slot that holds this key, else an empty one, else the
	 * one a hash bit picks. */
	f += lm_front_pair(hash);
	if (f->hash != hash && (f[1].hash == hash || f[1].method == UINT32_MAX ||
	                        (f->method != UINT32_MAX && ((hash >> (63 - lm_front_bits)) & 1))))
		f++;
	if (f->hash != hash || f->method == UINT32_MAX)
		t_keys++;
	f->hash = hash;
	f->method = method;
	f->epoch = epoch;
	f->epochp = epochp;
	f->expires_ms = expires_ms;
	f->klen = (uint16_t)klen;
	f->vlen = (uint16_t)vlen;
	memcpy(f->data, key, klen);
	memcpy(f->data + klen, val, vlen);
}

void lm_front_grow(void)
{
	if (lm_front && lm_front_bits < LM_FRONT_MAX_PAIR_BITS &&
	    t_keys >= (uint32_t)1 << lm_front_bits && !front_alloc(lm_front_bits + 2))
		t_keys = 0; /* no memory: try again after as many */
}
