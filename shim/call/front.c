#include "front.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shim/base/tpool.h"

__thread struct lm_front_slot *lm_front;

static pthread_key_t front_key;
static pthread_once_t front_once = PTHREAD_ONCE_INIT;

/* At thread exit, back to the pool for the next thread. A later
 * destructor that fills a copy takes a block again. */
static void front_free(void *f)
{
	lm_front = NULL;
	lm_tpool_give(f, LM_FRONT_THREAD_BYTES);
}

static void make_key(void)
{
	pthread_key_create(&front_key, front_free);
}

/* Allocated on a thread's first fill, not its first hit: the hit path
 * never allocates. */
static struct lm_front_slot *front_alloc(void)
{
	pthread_once(&front_once, make_key);
	struct lm_front_slot *f = lm_tpool_take(LM_FRONT_THREAD_BYTES);
	if (!f)
		return NULL;
	for (size_t i = 0; i < LM_FRONT_SLOTS; i++)
		f[i].method = UINT32_MAX;
	pthread_setspecific(front_key, f);
	lm_front = f;
	return f;
}

void lm_front_put(const uint64_t *epochp, uint32_t method, const void *key, uint32_t klen,
                  const void *val, size_t vlen, int64_t expires_ms, uint64_t epoch)
{
	if (klen + vlen > LM_FRONT_BYTES)
		return;
	struct lm_front_slot *f = lm_front ? lm_front : front_alloc();
	if (!f)
		return;
	uint64_t hash = lm_front_hash(method, key, klen);
	/* The pair's slot that holds this key, else an empty one, else the
	 * one a hash bit picks. */
	f += lm_front_pair(hash);
	if (f->hash != hash &&
	    (f[1].hash == hash || f[1].method == UINT32_MAX ||
	     (f->method != UINT32_MAX && ((hash >> (63 - LM_FRONT_PAIR_BITS)) & 1))))
		f++;
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
