#include "reuse.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fast.h"
#include "shim/base/guard.h"
#include "shim/base/tpool.h"

__thread struct lm_reuse *lm_reuse_tab;
__thread uint32_t lm_reuse_n;

static pthread_key_t reuse_key;
static pthread_once_t reuse_once = PTHREAD_ONCE_INIT;

/* At thread exit, back to the pool for the next thread; the table's
 * size is the exiting thread's own. */
static void reuse_free(void *t)
{
	lm_tpool_give(t, (size_t)lm_reuse_n * sizeof(struct lm_reuse));
	lm_reuse_tab = NULL;
	lm_reuse_n = 0;
}

static void make_key(void)
{
	pthread_key_create(&reuse_key, reuse_free);
}

/* Room for method ID, the new records empty. */
static struct lm_reuse *reuse_grow(uint32_t id)
{
	uint32_t had = lm_reuse_n, n = id < 8 ? 16 : id * 2;
	if (n <= id)
		return NULL;
	pthread_once(&reuse_once, make_key);
	struct lm_reuse *t = lm_tpool_take((size_t)n * sizeof *t);
	if (!t)
		return NULL;
	if (had)
		memcpy(t, lm_reuse_tab, (size_t)had * sizeof *t);
	lm_tpool_give(lm_reuse_tab, (size_t)had * sizeof *t);
	for (uint32_t i = had; i < n; i++)
		t[i].rec[0].klen = t[i].rec[1].klen = UINT32_MAX;
	pthread_setspecific(reuse_key, t);
	lm_reuse_tab = t;
	lm_reuse_n = n;
	return t;
}

void lm_reuse_put(const uint64_t *epochp, const struct lm_plan *p, uint32_t id, const void *key,
                  uint32_t klen, const struct lm_frame *f, int err, int64_t expires_ms,
                  uint64_t epoch)
{
	LM_KEEP_ERRNO();
	uint64_t gen = f->ret_rax ? lm_plan_static_gen(p) : 0;
	if (klen > LM_REUSE_KEY || (f->ret_rax && !gen))
		return;
	struct lm_reuse *t = id < lm_reuse_n ? lm_reuse_tab : reuse_grow(id);
	if (!t)
		return;
	struct lm_reuse_rec *r = &t[id].rec[gen ? 0 : 1], *other = &t[id].rec[gen ? 1 : 0];
	/* A key lives in one record: the other one's copy is older. */
	if (other->klen == klen && memcmp(other->key, key, klen) == 0)
		other->klen = UINT32_MAX;
	lm_fast_clock_check(expires_ms); /* lm_quick_entry reads the words */
	r->epochp = epochp;
	r->epoch = epoch;
	r->expires_ms = expires_ms;
	r->gen = gen;
	r->err = err;
	r->klen = klen;
	memcpy(r->key, key, klen);
	r->has_word = lm_plan_quick_word_of(p, key, klen, &r->word);
}
