/* lm_thunk's quick paths (thunk.S): hits answered after the thunk saved
 * the general registers but before it saves the sixteen vector ones,
 * which these hits do not need. Two kinds: a static-result method's
 * (getpwnam, localtime), and a front-cache hit of a method whose key and
 * result lm_plan_quick_front accepts (`long h(str s)`, `int u(i64 id,
 * out(64) buf)`). And, before even that, lm_thunk_static's first step
 * (thunk_static.S): a static hit whose key is one argument word.
 *
 * Static results: A call whose key is the one this thread's static buffer was
 * built for (its bytes written again), or the one last answered NULL, returns
 * at once (reuse.h); anything else goes on to the dispatcher. A key that
 * is one argument word (plan.h's lm_qword: localtime's 8 bytes, getpwuid's
 * uid) is compared as that word with the one the record keeps; any other
 * (getpwnam's name) a word at a time by plan/quick.c.
 *
 * So nothing here may touch a vector register: this file is built with
 * -mgeneral-regs-only (Makefile) and calls only code built the same way
 * (plan/quick.c, plan/static_copy.c), the vDSO's clock (compiled by the
 * kernel without SSE). */
#include <time.h>

#include "counters.h"
#include "front.h"
#include "dispatch.h"
#include "fast.h"
#include "reuse.h"
#include "runtime.h"
#include "shim/base/clock.h"
#include "shim/base/guard.h"
#include "shim/base/handler.h"

/* fast.c's: the vDSO's clock_gettime, NULL without one; errno's offset
 * from the thread pointer (set before any hook is installed); the
 * kernel's coarse clock words, NULL without them. */
extern int (*lm_fast_clock)(clockid_t, struct timespec *);
extern intptr_t lm_fast_errno_tpoff;
extern const volatile int64_t *lm_fast_coarse;

/* errno = ERR without the call of __errno_location. */
static inline void set_errno(int err)
{
	uintptr_t tp;
	__asm__("movq %%fs:0, %0" : "=r"(tp));
	// NOLINTNEXTLINE(performance-no-int-to-ptr): the thread pointer is an address
	*(int *)(tp + (uintptr_t)lm_fast_errno_tpoff) = err;
}

/* The coarse monotonic clock in ms, or -1 without a vDSO clock. */
static int64_t now_ms(void)
{
	struct timespec ts;
	if (!lm_fast_clock || lm_fast_clock(CLOCK_MONOTONIC_COARSE, &ts) != 0)
		return -1;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* No drop since the record was kept. */
static inline __attribute__((always_inline)) bool same_epoch(const struct lm_reuse_rec *r)
{
	return __atomic_load_n(r->epochp, __ATOMIC_ACQUIRE) == r->epoch;
}

/* The record is still valid: not expired, not dropped. */
static bool current(const struct lm_reuse_rec *r)
{
	if (r->expires_ms != INT64_MAX) {
		int64_t now = now_ms();
		if (now < 0 || r->expires_ms <= now)
			return false;
	}
	return same_epoch(r);
}

static int answer(const struct lm_rt_method *m, const struct lm_reuse_rec *r, struct lm_frame *f)
{
	void *buf = NULL;
	if (!current(r) || (r->gen && !(buf = lm_plan_static_reuse(m->plan, r->gen))))
		return LM_ENTER_CALL;
	f->ret_rax = (uint64_t)(uintptr_t)buf;
	lm_count(m->id, LM_C_hits, 1);
	set_errno(r->err);
	return LM_ENTER_RETURN;
}

/* The dispatcher's business: re-entry, a handler, checked arguments,
 * a thread without its counters yet (attaching allocates), calls a
 * longjmp left (their waiters are released by enter). */
static inline __attribute__((always_inline)) bool dispatcher_only(const struct lm_rt_method *m)
{
	return m->arg_checks || lm_guard_held() || lm_fast_busy() || lm_handler_frame ||
	       !lm_tls_counters || lm_dispatch_top;
}

/* The word of the call's key (plan.h's lm_qword) from V, its argument
 * register, into *W; false when it has none. Constant widths: a variable
 * one would be a call of memcpy. */
static inline __attribute__((always_inline)) bool call_word(struct lm_qword q, uint64_t v,
                                                            uint64_t *w)
{
	if (q.kind == LM_QW_RAW) {
		*w = q.width < 8 ? v & ((1ull << (8 * q.width)) - 1) : v;
		return true;
	}
	if (!v)
		return false;
	// NOLINTNEXTLINE(performance-no-int-to-ptr): the register holds a pointer
	const unsigned char *b = (const unsigned char *)(uintptr_t)v;
	uint32_t u32;
	uint16_t u16;
	switch (q.width) {
	case 8:
		__builtin_memcpy(w, b, 8);
		break;
	case 4:
		__builtin_memcpy(&u32, b, 4);
		*w = u32;
		break;
	case 2:
		__builtin_memcpy(&u16, b, 2);
		*w = u16;
		break;
	default:
		*w = b[0];
	}
	return true;
}

/* The record of R[0..2) that holds the word W of a call's key, or NULL: a
 * record without a word holds a key that no call with one has. */
static inline __attribute__((always_inline)) const struct lm_reuse_rec *
find_word(const struct lm_reuse_rec *r, uint64_t w)
{
	for (int i = 0; i < 2; i++)
		if (r[i].klen != UINT32_MAX && r[i].has_word && r[i].word == w)
			return &r[i];
	return NULL;
}

/* The record of R[0..2) that holds the call's key, or NULL. */
static const struct lm_reuse_rec *find(const struct lm_rt_method *m, const struct lm_reuse_rec *r,
                                       const struct lm_frame *f)
{
	uint64_t w;
	if (m->qword.kind != LM_QW_NONE && call_word(m->qword, f->gpr[m->qword.off / 8], &w))
		return find_word(r, w);
	for (int i = 0; i < 2; i++) {
		if (r[i].klen == UINT32_MAX)
			continue;
		int eq = lm_plan_quick_key_equals(m->plan, f, r[i].key, r[i].klen);
		if (eq)
			return eq > 0 ? &r[i] : NULL;
	}
	return NULL;
}

int lm_dispatch_quick(struct lm_hook *h, struct lm_frame *f)
{
	const struct lm_rt_method *m = ((const struct lm_hook_head *)h)->ctx;
	const struct lm_reuse *t = lm_reuse_tab;
	if (!m->reuse || !t || m->id >= lm_reuse_n || dispatcher_only(m))
		return LM_ENTER_CALL;
	/* A handler's hooked call meanwhile runs uncached: it cannot rebuild
	 * the buffer between the check and the return. */
	lm_guard_enter();
	const struct lm_reuse_rec *r = find(m, t[m->id].rec, f);
	int rc = r ? answer(m, r, f) : LM_ENTER_CALL;
	lm_guard_leave();
	return rc;
}

__thread uint64_t lm_quick_front_hits;

int lm_dispatch_quick_front(struct lm_hook *h, struct lm_frame *f)
{
	const struct lm_rt_method *m = ((const struct lm_hook_head *)h)->ctx;
	if (m->verify || m->fast || !lm_front || dispatcher_only(m))
		return LM_ENTER_CALL;
	/* the key as words; one of slack */
	uint64_t key[LM_FRONT_BYTES / 8 + 2];
	int64_t klen = lm_plan_quick_key(m->plan, f, key, sizeof key / 8);
	if (klen < 0)
		return LM_ENTER_CALL;
	/* A handler's hooked call meanwhile runs uncached: its fill cannot
	 * rewrite the slot between the check and the copy. */
	lm_guard_enter();
	int rc = LM_ENTER_CALL, err;
	const struct lm_front_slot *s = lm_front_find_words(m->id, key, (uint32_t)klen);
	int64_t now = s && s->expires_ms != INT64_MAX ? now_ms() : 0;
	if (s && now >= 0 && lm_front_valid(s, now) &&
	    lm_plan_quick_replay(m->plan, s->data + klen, s->vlen, f, &err) == 0) {
		lm_count(m->id, LM_C_hits, 1);
		lm_quick_front_hits++;
		set_errno(err);
		rc = LM_ENTER_RETURN;
	}
	lm_guard_leave();
	return rc;
}

/* current() without a call: false also when unsure (an expiry and no
 * clock words, a tick between their loads, an expiry within the second a
 * torn read could hide, which lm_thunk's quick path reads from the vDSO). */
static inline __attribute__((always_inline)) bool current_callfree(const struct lm_reuse_rec *r)
{
	if (r->expires_ms != INT64_MAX) {
		const volatile int64_t *w = lm_fast_coarse;
		if (!w)
			return false;
		/* seconds read twice around the nanoseconds (clock.c); ns / 10^6
		 * as thunk_fast.S has it, which gcc here would leave a div */
		int64_t sec = w[0];
		uint64_t ns = (uint64_t)w[1];
		if (w[0] != sec || r->expires_ms - LM_CLOCK_TORN_MS <=
		                       sec * 1000 + (int64_t)((ns * 1125899907u) >> 50))
			return false;
	}
	return same_epoch(r);
}

/* lm_dispatch_quick's static hit by the same rules, but entered before
 * lm_thunk saved anything: so it calls nothing (the compiler saves what
 * it uses, and would save every register around a call). What it is not
 * sure of passes to lm_thunk, whose quick path and dispatcher answer it. */
void *lm_quick_entry(uint64_t a0, const struct lm_hook_head *h)
{
	const struct lm_rt_method *m = h->ctx;
	const struct lm_reuse *t = lm_reuse_tab;
	struct lm_tblock *b = lm_tls_counters;
	if (!t || m->id >= lm_reuse_n || !b || dispatcher_only(m))
		return LM_QUICK_PASS;
	uint64_t w;
	if (!call_word(m->qword, a0, &w))
		return LM_QUICK_PASS;
	lm_guard_enter(); /* as in lm_dispatch_quick */
	void *res = LM_QUICK_PASS, *buf = NULL;
	const struct lm_reuse_rec *r = find_word(t[m->id].rec, w);
	/* the static slots are the plan's, whose id is the method's */
	if (r && current_callfree(r) &&
	    (!r->gen || (buf = lm_plan_static_restore(m->id, r->gen)))) {
		/* lm_count without its attach: the thread has its block */
		uint64_t *c = &b->v[(uint64_t)m->id * LM_C_COUNT + LM_C_hits];
		__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
		set_errno(r->err);
		res = buf;
	}
	lm_guard_leave();
	return res;
}
