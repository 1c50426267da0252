/* Hits of static-result methods (lm_plan_static_result: getpwnam,
 * localtime) without a lookup or a rebuild. Each thread keeps, per such
 * method, the key whose result the method's static buffer holds and the
 * last key answered NULL. A call with either key answers at once: the
 * buffer, its bytes written again as the replay built them (from a copy,
 * lm_plan_static_reuse: what the caller wrote into it is undone, as by
 * libc's next call), or NULL. The static buffer keeps libc's rules: one per method and thread,
 * valid until the next call; another key's hit rebuilds it.
 *
 * Records follow the front cache's rule (front.h): valid while the
 * method's copy epoch still holds the value read before the lookup that
 * produced them, and until their expiry. */
#ifndef LM_REUSE_H
#define LM_REUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "front.h"
#include "shim/arch/x86_64/frame.h"
#include "shim/base/clock.h"
#include "shim/plan/plan.h"
#include "shim/store/store.h"

/* Longer keys are not kept: they take the ordinary hit path. */
#define LM_REUSE_KEY 48

struct lm_reuse_rec {
	const uint64_t *epochp;
	uint64_t epoch;
	int64_t expires_ms;
	uint64_t gen;  /* the static buffer's generation; 0: a NULL result */
	uint64_t word; /* the key's word (plan.h's lm_qword), if has_word */
	bool has_word;
	int32_t err;
	uint32_t klen; /* UINT32_MAX: empty */
	unsigned char key[LM_REUSE_KEY];
};

/* Per method: [0] the key the buffer was built for, [1] the NULL one. */
struct lm_reuse {
	struct lm_reuse_rec rec[2];
};

/* This thread's records, indexed by method id; NULL until its first put. */
extern __thread struct lm_reuse *lm_reuse_tab;
extern __thread uint32_t lm_reuse_n;

/* Answer the call in F (ret_rax, *ERR) from this thread's records of
 * method ID with plan P when one holds the call's key and is still valid.
 * The call's key is compared, never built. */
static inline bool lm_reuse_get(const struct lm_plan *p, uint32_t id, struct lm_frame *f, int *err)
{
	struct lm_reuse *t = lm_reuse_tab;
	if (!t || id >= lm_reuse_n)
		return false;
	for (int i = 0; i < 2; i++) {
		const struct lm_reuse_rec *r = &t[id].rec[i];
		if (r->klen == UINT32_MAX || !lm_plan_key_equals(p, f, r->key, r->klen))
			continue;
		if ((r->expires_ms != INT64_MAX && lm_clock_reached(r->expires_ms)) ||
		    __atomic_load_n(r->epochp, __ATOMIC_ACQUIRE) != r->epoch)
			return false;
		void *buf = NULL;
		if (r->gen && !(buf = lm_plan_static_reuse(p, r->gen)))
			return false;
		f->ret_rax = (uint64_t)(uintptr_t)buf;
		*err = r->err;
		return true;
	}
	return false;
}

/* After a replay answered the call in F for method ID with KEY (the
 * result valid until EXPIRES_MS, from a lookup that began after the
 * method's copy epoch read EPOCH): keep the record for the next call.
 * Allocates this thread's table on its first put, never on a hit. */
void lm_reuse_put(const uint64_t *epochp, const struct lm_plan *p, uint32_t id, const void *key,
                  uint32_t klen, const struct lm_frame *f, int err, int64_t expires_ms,
                  uint64_t epoch);

#endif
