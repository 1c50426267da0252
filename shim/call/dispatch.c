/* The dispatcher: what happens between the thunk's entry and the return
 * to the caller. enter() builds the key and answers a hit from the store;
 * on a miss the thunk calls the original and leave() captures and stores
 * the result. Write functions compute their drop targets at the call and
 * apply them after the function returned (spec 3.5, guarantee 4). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "config/defaults.h"
#include "counters.h"
#include "fast.h"
#include "front.h"
#include "reuse.h"
#include "shim/base/log.h"
#include "shim/call/sig_guard.h"
#include "runtime.h"
#include "shim/base/stack.h"
#include "shim/base/clock.h"
#include "shim/base/guard.h"
#include "shim/base/handler.h"
#include "dispatch.h"
#include "invalidate.h"

/* Keys, values and drop lists of the calls this thread has in flight, as a
 * stack: a recursive call pushes above its caller and pops back. Offsets,
 * not pointers, are kept because the buffer may move when it grows. */
static __thread struct lm_buf t_arena;
/* Records hold copies, so the arena must not be appended to while a key
 * handed to the callback points into it: exact keys are built into a
 * separate scratch buffer. */
static __thread struct lm_buf t_pattern;

enum call_mode { CALL_FILL, CALL_NOFILL, CALL_VERIFY, CALL_UNSTORED };

struct lm_call {
	struct lm_store_req req;
	struct lm_host_ticket ticket;  /* the host tier's generations at the lookup */
	struct lm_entry *verify_entry; /* verify: the entry a hit would return */
	struct lm_entry *stale;        /* stale_if_error candidate */
	int64_t start_ns;
	int64_t lookup_ns; /* ldmemo's time before the call */
	uint64_t epoch;    /* the method's copy epoch, read before the lookup */
	size_t base;       /* arena offset of this call's bytes */
	size_t rec;        /* its in-flight record's offset + 1; 0: none */
	uint32_t klen;
	uint8_t mode;
	bool l2_down;   /* the shared tier could not be asked: counted as bypassed */
	uint8_t weight; /* misses this one's times stand for; 0: not timed */
};
_Static_assert(sizeof(struct lm_call) <= LM_CALL_STATE_SIZE, "call state fits the frame");

/* Calls that run the original, from the lookup to leave, as a list in the
 * arena: what it takes to finish a call whose frame is gone without
 * leave. An unwinder (an exception, a cancellation) tells the dispatcher
 * (lm_dispatch_unwound), a longjmp does not: a record whose thunk frame
 * lies at or below a newer call's frame belongs to a call the stack has
 * left, and that call's pending marker, entry references and arena bytes
 * are released then. A call on another stack (a handler on a sigaltstack
 * above the thread's stack, a coroutine's) can be taken for one: its
 * record is released early and its leave, finding it gone, stores
 * nothing. Never wrong, at worst uncached. */
struct inflight {
	size_t prev;     /* the record below, + 1; 0: none */
	uintptr_t frame; /* the call's struct lm_frame */
	size_t base;     /* the call's arena bytes start here */
	uint32_t method;
	struct lm_store_req req;
	struct lm_entry *stale, *verify_entry;
};
__thread size_t lm_dispatch_top; /* the newest record's offset + 1; 0: none */

static inline struct inflight *rec_at(size_t rec)
{
	return (struct inflight *)(void *)(t_arena.p + rec - 1);
}

/* Track C (frame F) until leave; untracked when the arena cannot grow
 * (then only an unwinder can finish it early). */
static void inflight_push(struct lm_call *c, const struct lm_frame *f)
{
	size_t off = (t_arena.len + 7) & ~(size_t)7;
	c->rec = 0;
	if (lm_buf_reserve(&t_arena, off - t_arena.len + sizeof(struct inflight)) != 0)
		return;
	t_arena.len = off + sizeof(struct inflight);
	c->rec = off + 1;
	*rec_at(c->rec) = (struct inflight){
	    .prev = lm_dispatch_top,
	    .frame = (uintptr_t)f,
	    .base = c->base,
	    .method = c->req.method,
	    .req = c->req,
	    .stale = c->stale,
	    .verify_entry = c->mode == CALL_VERIFY ? c->verify_entry : NULL,
	};
	lm_dispatch_top = c->rec;
}

/* A call that will never reach leave: wake its key's waiters, drop its
 * references. Counted as a miss: the original ran. */
static void release_call(uint32_t method, struct lm_store_req *req, struct lm_entry *stale,
                         struct lm_entry *verify_entry)
{
	lm_store_abandon(lm_rt->store, req);
	if (stale)
		lm_entry_unref(lm_rt->store, stale);
	if (verify_entry)
		lm_entry_unref(lm_rt->store, verify_entry);
	lm_count(method, LM_C_misses, 1);
}

/* Release every record at or below FRAME: their calls were left by a
 * longjmp. */
static __attribute__((noinline)) void reap_below(uintptr_t frame)
{
	while (lm_dispatch_top) {
		struct inflight *r = rec_at(lm_dispatch_top);
		if (r->frame > frame)
			return;
		r->req.key = t_arena.p + r->base;
		release_call(r->method, &r->req, r->stale, r->verify_entry);
		lm_dispatch_top = r->prev;
		t_arena.len = r->base;
	}
}

/* The thread's buffers come from the thread pool and go back to it when
 * the thread ends (tpool.h). */
static pthread_key_t arena_key;
static pthread_once_t arena_once = PTHREAD_ONCE_INIT;

/* At thread exit. No call of the thread can reach leave any more: the
 * calls a longjmp left, that no later call reaped, release their markers
 * now. A later destructor's hooked call attaches again. */
static void arena_gone(void *arg)
{
	(void)arg;
	int err = errno;
	lm_guard_enter();
	reap_below(UINTPTR_MAX);
	lm_buf_free(&t_arena);
	lm_buf_free(&t_pattern);
	t_arena.pooled = t_pattern.pooled = false;
	lm_guard_leave();
	errno = err;
}

static void make_arena_key(void)
{
	pthread_key_create(&arena_key, arena_gone);
}

/* The thread's first call (inside the shim). Without the key, the
 * buffers are the thread's until the process ends, as malloc's. */
static __attribute__((noinline)) void arena_attach(void)
{
	pthread_once(&arena_once, make_arena_key);
	if (pthread_setspecific(arena_key, &t_arena) == 0)
		t_arena.pooled = t_pattern.pooled = true;
}

/* Leave's (or the unwinder's) end of C's record: false when it was
 * released already, and C must touch neither the store nor its
 * references. */
static bool inflight_pop(const struct lm_call *c, const struct lm_frame *f)
{
	if (!c->rec)
		return true;
	if (lm_dispatch_top && lm_dispatch_top != c->rec)
		reap_below((uintptr_t)f - 1); /* calls of the original a longjmp left */
	if (lm_dispatch_top != c->rec)
		return false;
	lm_dispatch_top = rec_at(c->rec)->prev;
	return true;
}

static inline struct lm_rt_method *method_of(struct lm_hook *h)
{
	return ((const struct lm_hook_head *)h)->ctx;
}

/* Transient failures are never cached as negatives (spec 3.4), like nscd. */
static bool transient(int err)
{
	return err == EAGAIN || err == EINTR || err == ENOMEM || err == ETIMEDOUT || err == EIO;
}

/* A call from inside the shim, from a signal handler that interrupted it
 * or a fast thunk's lookup on this thread, or from any of the program's
 * signal handlers (which may have interrupted its malloc, and a miss
 * allocates): it runs uncached (guarantee 6). */
_Static_assert(LM_L2_TTL_NEVER == LM_DUR_NEVER, "the tier's never is the config's");
_Static_assert(LM_STORE_NEVER == LM_DUR_NEVER, "the store's never is the config's");

static inline bool reentered(void)
{
	return lm_guard_held() || lm_fast_busy() || lm_in_handler();
}

void lm_dispatch_tick(void)
{
	/* not in a handler, nor inside the shim's own code: the tick may
	 * rewrite hooks and take the loader's and the shim's locks */
	if (reentered())
		return;
	lm_guard_enter();
	lm_adaptive_tick();
	lm_guard_leave();
}

/* The enter paths hand the caller's errno down to their exit, not keep
 * it for a block (LM_KEEP_ERRNO): a hit's exit sets the replayed errno
 * instead. */
static int bypass(struct lm_rt_method *m, int caller_errno)
{
	lm_count_reentered(m->id, LM_C_bypassed, 1);
	errno = caller_errno;
	return LM_ENTER_PASS;
}

/* A hit: the frame holds the result. */
static inline int answered(struct lm_rt_method *m, struct lm_call *c, bool coalesced, int err)
{
	lm_count(m->id, LM_C_hits, 1);
	if (coalesced)
		lm_count(m->id, LM_C_coalesced, 1);
	t_arena.len = c->base;
	lm_guard_leave();
	errno = err;
	return LM_ENTER_RETURN;
}

/* Keep a copy of the result for this thread's next hit: in the fast table
 * when the method has a fast thunk (F holds the result), else in the front
 * cache (VAL holds it). STORED: the result is a store hit's. */
static void keep_copy(struct lm_hook *h, struct lm_rt_method *m, struct lm_call *c,
                      const struct lm_frame *f, const void *val, size_t vlen, int err,
                      int64_t expires, bool stored)
{
	if (m->fast)
		lm_fast_put((const struct lm_hook_head *)h, f, err, expires, c->epoch, stored);
	else
		lm_front_put(lm_rt_copy_epoch(lm_rt, m), m->id, t_arena.p + c->base, c->klen, val,
		             vlen, expires, c->epoch);
}

/* An L1 miss of a shared method: the shared tier may have the result.
 * Asked after the L1 lookup, so that an invalidation arriving meanwhile
 * refuses the L1 fill (the store's generations). True when F now holds
 * the result (errno set to the stored one). */
static bool ask_l2(struct lm_hook *h, struct lm_rt_method *m, struct lm_call *c, struct lm_frame *f)
{
	size_t vbase = t_arena.len;
	int64_t l1_ttl = 0;
	enum lm_l2_result r =
	    lm_l2_get_ttl(lm_rt->l2, m->id, t_arena.p + c->base, c->klen, &t_arena, &l1_ttl);
	c->req.key = t_arena.p + c->base; /* the arena may have moved */
	c->l2_down = r == LM_L2_DOWN;
	int err;
	if (r != LM_L2_HIT ||
	    lm_plan_replay(m->plan, t_arena.p + vbase, t_arena.len - vbase, f, &err) != 0) {
		t_arena.len = vbase;
		return false;
	}
	const unsigned char *val = t_arena.p + vbase;
	size_t vlen = t_arena.len - vbase;
	int64_t expires = lm_clock_ms() + l1_ttl;
	if (lm_store_fill(lm_rt->store, &c->req, val, vlen, l1_ttl) == 1)
		keep_copy(h, m, c, f, val, vlen, err, expires, false);
	/* the host tier is a nearer tier: it keeps the copy as long as L1 may */
	if (m->host)
		lm_host_set(lm_rt->host, &m->hm, c->req.hash, c->req.key, c->klen, val, vlen,
		            l1_ttl, &c->ticket);
	if (c->stale)
		lm_entry_unref(lm_rt->store, c->stale);
	errno = err;
	return true;
}

/* Reading the clock costs 20 to 60 ns on some machines (a VM's clock
 * source), four times per miss: a function faster than LM_MISS_ALWAYS_NS
 * has one miss in LM_MISS_SAMPLE timed on each thread, its times counted
 * that many times over; a slower one (or one not timed yet) every miss. */
#define LM_MISS_SAMPLE    16
#define LM_MISS_ALWAYS_NS 2000
static __thread uint32_t t_miss_tick;

static inline uint8_t miss_weight(const struct lm_rt_method *m)
{
	uint64_t min = __atomic_load_n(&m->min_call_ns, __ATOMIC_RELAXED);
	if (min == 0 || min >= LM_MISS_ALWAYS_NS)
		return 1;
	return t_miss_tick++ % LM_MISS_SAMPLE == 0 ? LM_MISS_SAMPLE : 0;
}

static inline int64_t timed_now(const struct lm_call *c)
{
	return c->weight ? lm_now_ns() : 0;
}

/* An L1 miss of a host-tier method: another process may have stored the
 * result. True when F now holds it (errno set to the stored one); either
 * way c->ticket holds the generations a fill must still find. */
static bool ask_host(struct lm_hook *h, struct lm_rt_method *m, struct lm_call *c,
                     struct lm_frame *f)
{
	size_t vbase = t_arena.len;
	int64_t expires = 0;
	int r = lm_host_get(lm_rt->host, &m->hm, c->req.hash, t_arena.p + c->base, c->klen,
	                    &t_arena, &expires, &c->ticket);
	c->req.key = t_arena.p + c->base; /* the arena may have moved */
	int64_t ttl = expires == LM_DUR_NEVER ? LM_DUR_NEVER : expires - lm_clock_ms();
	int err;
	if (!r || ttl <= 0 ||
	    lm_plan_replay(m->plan, t_arena.p + vbase, t_arena.len - vbase, f, &err) != 0) {
		t_arena.len = vbase;
		return false;
	}
	const unsigned char *val = t_arena.p + vbase;
	size_t vlen = t_arena.len - vbase;
	if (lm_store_fill(lm_rt->store, &c->req, val, vlen, ttl) == 1)
		keep_copy(h, m, c, f, val, vlen, err, expires, false);
	if (c->stale)
		lm_entry_unref(lm_rt->store, c->stale);
	lm_count(m->id, LM_C_shared_hits, 1);
	errno = err;
	return true;
}

/* A drop by another process of the host moved the method's l1gen: what
 * L1 holds of it may be older than that drop, so it goes (guarantee 4
 * across processes). Noted only once the drop is done, so that a thread
 * seeing the note finds L1 already emptied. */
static uint64_t host_sync(struct lm_rt_method *m)
{
	uint64_t g = lm_host_l1gen_now(lm_rt->host, &m->hm);
	if (__builtin_expect(g != __atomic_load_n(&m->host_seen, __ATOMIC_ACQUIRE), 0)) {
		lm_store_drop_method(lm_rt->store, m->id);
		__atomic_store_n(&m->host_seen, g, __ATOMIC_RELEASE);
	}
	return g;
}

/* Store hits between copies kept in the front cache: a working set
 * larger than the thread's copies would otherwise evict one hot copy per
 * hit (a store hit costs little more than keeping the copy). The fast
 * table, which grows, keeps each and judges (fast.c). */
#define LM_COPY_EVERY 8
static __thread uint32_t t_copy_tick;

/* Put a stored value in F: the inline scalar replay when the method's
 * result is one register, the plan's otherwise. */
static inline int replay(const struct lm_rt_method *m, const void *val, size_t vlen,
                         struct lm_frame *f, int *err)
{
	return m->scalar != LM_SCALAR_NO ? lm_scalar_replay(m->scalar, val, vlen, f, err)
	                                 : lm_plan_replay(m->plan, val, vlen, f, err);
}

/* A store hit pinned in E: replay it. False when the value cannot be
 * replayed (the function runs instead). */
static bool replay_hit(struct lm_hook *h, struct lm_rt_method *m, struct lm_call *c,
                       struct lm_frame *f, struct lm_entry *e, int *err)
{
	size_t vlen;
	const void *val = lm_entry_value(e, &vlen);
	int rc = replay(m, val, vlen, f, err);
	if (rc == 0 && (m->fast || ++t_copy_tick % LM_COPY_EVERY == 0))
		keep_copy(h, m, c, f, val, vlen, *err, lm_entry_expires_ms(e), true);
	if (rc == 0 && m->reuse)
		lm_reuse_put(lm_rt_copy_epoch(lm_rt, m), m->plan, m->id, t_arena.p + c->base,
		             c->klen, f, *err, lm_entry_expires_ms(e), c->epoch);
	lm_entry_release(lm_rt->store, e);
	return rc == 0;
}

/* Everything but a front-cache hit: the store, coalescing, verify mode. */
static __attribute__((noinline)) int enter_slow(struct lm_hook *h, struct lm_rt_method *m,
                                                struct lm_call *c, struct lm_frame *f,
                                                int caller_errno)
{
	const unsigned char *key = t_arena.p + c->base;
	if (__builtin_expect(__atomic_load_n(&m->ptr_static, __ATOMIC_RELAXED), 0) && !m->verify) {
		t_arena.len = c->base;
		lm_guard_leave();
		return bypass(m, caller_errno);
	}
	c->epoch = m->host ? host_sync(m) : lm_store_copy_epoch_now(lm_rt->store, m->id);
	c->req = (struct lm_store_req){
	    .method = m->id,
	    .hash = c->req.hash,
	    .key = key,
	    .klen = c->klen,
	    .coalesce = m->coalesce && !m->verify,
	    .stale_ms = m->stale_ms,
	    .hold = m->verify,
	};
	c->verify_entry = NULL;
	c->stale = NULL;

	struct lm_entry *e = NULL;
	int err;
	/* The common hit, lock-free and before any clock is read: the time
	 * a miss costs is counted from the full lookup. */
	if (!m->verify && lm_store_get(lm_rt->store, &c->req, &e)) {
		if (replay_hit(h, m, c, f, e, &err))
			return answered(m, c, false, err);
		e = NULL;
	}
	lm_adaptive_tick(); /* the re-sampling: on misses, and lm_dispatch_tick */
	c->req.probed = !m->verify;
	c->weight = miss_weight(m);
	int64_t t0 = timed_now(c);
	bool coalesced = false;
	switch (lm_store_lookup(lm_rt->store, &c->req, &e, &coalesced, &c->stale)) {
	case LM_LOOKUP_HIT:
		if (m->verify) {
			c->verify_entry = e;
			c->mode = CALL_VERIFY;
			break;
		}
		if (replay_hit(h, m, c, f, e, &err))
			return answered(m, c, coalesced, err);
		c->mode = CALL_NOFILL; /* a value we cannot replay: run the function */
		break;
	case LM_LOOKUP_MISS:
		c->mode = CALL_FILL;
		/* the shared tier's clients need more stack than a small signal
		 * stack has (l2.h): that miss is served like one with it down */
		c->l2_down = m->shared && lm_stack_short(LM_L2_STACK_NEED);
		if (m->host && ask_host(h, m, c, f))
			return answered(m, c, false, errno);
		if (m->shared && !c->l2_down && ask_l2(h, m, c, f))
			return answered(m, c, false, errno);
		break;
	case LM_LOOKUP_RECURSE:
		c->mode = CALL_NOFILL;
		break;
	}
	inflight_push(c, f);
	c->start_ns = timed_now(c);
	c->lookup_ns = c->start_ns - t0;
	lm_guard_leave();
	errno = caller_errno;
	return LM_ENTER_CALL;
}

/* Nothing of M is ever stored (ttl = 0 and negative_ttl = 0, local
 * only): every call is a miss, which needs no key, no lookup and no marker
 * for concurrent misses to wait on. */
static inline bool never_stored(const struct lm_rt_method *m)
{
	return m->ttl_ms <= 0 && m->negative_ttl_ms <= 0 && !m->shared && !m->verify;
}

static __attribute__((noinline)) int enter_unstored(struct lm_rt_method *m, struct lm_call *c,
                                                    int caller_errno)
{
	if (__atomic_load_n(&m->ptr_static, __ATOMIC_RELAXED)) {
		lm_guard_leave();
		return bypass(m, caller_errno);
	}
	c->klen = 0;
	c->rec = 0; /* nothing for an unwinder to release */
	c->mode = CALL_UNSTORED;
	c->stale = NULL;
	c->lookup_ns = 0;
	c->weight = miss_weight(m);
	c->start_ns = timed_now(c);
	lm_guard_leave();
	errno = caller_errno;
	return LM_ENTER_CALL;
}

/* The dispatcher's hit path (the fast thunk's misses and the methods it
 * does not serve): key, hash, this thread's front cache, replay. Nothing
 * here locks, allocates (the arena only grows when a key is larger than
 * any before) or makes a system call; errno is only ever set to the
 * stored value. */
int lm_dispatch_enter(struct lm_hook *h, struct lm_frame *f)
{
	struct lm_rt_method *m = method_of(h);
	if (__builtin_expect(reentered(), 0))
		return bypass(m, errno);
	lm_guard_enter();
	if (__builtin_expect(!t_arena.pooled, 0))
		arena_attach();
	if (__builtin_expect(lm_dispatch_top != 0, 0))
		reap_below((uintptr_t)f);

	struct lm_call *c = (struct lm_call *)f->call;
	c->base = t_arena.len;
	if (__builtin_expect(m->arg_checks != 0, 0) && lm_arg_guard(m, f) != 0) {
		lm_guard_leave();
		return bypass(m, errno);
	}
	if (__builtin_expect(never_stored(m), 0))
		return enter_unstored(m, c, errno);
	if (m->reuse) {
		int err;
		if (lm_reuse_get(m->plan, m->id, f, &err))
			return answered(m, c, false, err);
	}
	if (__builtin_expect(lm_plan_key(m->plan, f, &t_arena) != 0, 0)) {
		t_arena.len = c->base;
		lm_guard_leave();
		return bypass(m, errno);
	}
	c->klen = (uint32_t)(t_arena.len - c->base);
	const unsigned char *key = t_arena.p + c->base;
	if (!m->verify && !m->fast) {
		size_t vlen;
		int err;
		/* read before the lookup, as for any copy (front.h) */
		uint64_t epoch =
		    m->reuse ? __atomic_load_n(lm_rt_copy_epoch(lm_rt, m), __ATOMIC_ACQUIRE) : 0;
		int64_t expires;
		const void *val = lm_front_get(m->id, key, c->klen, &vlen, &expires);
		if (val && replay(m, val, vlen, f, &err) == 0) {
			if (m->reuse)
				lm_reuse_put(lm_rt_copy_epoch(lm_rt, m), m->plan, m->id, key,
				             c->klen, f, err, expires, epoch);
			return answered(m, c, false, err);
		}
	}
	c->req.hash = lm_key_hash(key, c->klen);
	return enter_slow(h, m, c, f, errno);
}

static void log_mismatch(struct lm_rt_method *m, const void *key, uint32_t klen)
{
	if (__atomic_fetch_add(&m->mismatch_logged, 1, __ATOMIC_RELAXED) >= LM_VERIFY_LOG_MAX)
		return;
	char desc[512];
	lm_plan_key_describe(m->plan, key, klen, desc, sizeof desc);
	lm_warn("%s: verify: the cached result would differ from the real one for %s", m->cfg->name,
	        desc);
}

/* Verify mode: the program got the real result; compare it with the entry
 * a hit would have returned. */
static void leave_verify(struct lm_rt_method *m, struct lm_call *c, struct lm_frame *f, int err)
{
	size_t vbase = t_arena.len;
	lm_count(m->id, LM_C_hits, 1);
	if (lm_ptr_guarded(m) && lm_ptr_repeats(m, c->req.hash, f->ret_rax)) {
		/* The address a hit would return now holds another key's result. */
		lm_count(m->id, LM_C_mismatches, 1);
		lm_ptr_static(m, "verify counts each repeat as a mismatch");
	} else if (lm_plan_capture(m->plan, f, err, &t_arena) == 0) {
		size_t elen;
		const void *ev = lm_entry_value(c->verify_entry, &elen);
		if (!lm_plan_same_value(m->plan, ev, elen, t_arena.p + vbase,
		                        t_arena.len - vbase)) {
			lm_count(m->id, LM_C_mismatches, 1);
			log_mismatch(m, t_arena.p + c->base, c->klen);
		}
	}
	lm_entry_unref(lm_rt->store, c->verify_entry);
}

/* A result that fails `when`: stale_if_error may answer instead. Returns
 * true when the frame now holds the stale result. */
static bool answer_stale(struct lm_rt_method *m, struct lm_call *c, struct lm_frame *f, int *err)
{
	size_t vlen;
	const void *val = lm_entry_value(c->stale, &vlen);
	struct lm_frame saved = *f;
	if (lm_plan_replay(m->plan, val, vlen, f, err) != 0) {
		*f = saved;
		return false;
	}
	lm_count(m->id, LM_C_stale, 1);
	lm_count(m->id, LM_C_hits, 1);
	return true;
}

static void leave_fill(struct lm_hook *h, struct lm_rt_method *m, struct lm_call *c,
                       struct lm_frame *f, int *err)
{
	if (lm_ptr_guarded(m) && lm_ptr_repeats(m, c->req.hash, f->ret_rax) && !m->verify) {
		lm_store_abandon(lm_rt->store, &c->req);
		lm_count(m->id, LM_C_bypassed, 1);
		lm_ptr_static(m, "it is no longer cached");
		lm_invalidate_method(m->id);
		return;
	}
	bool ok = lm_plan_when(m->plan, f, *err);
	int64_t ttl = ok ? m->ttl_ms : (transient(*err) ? 0 : m->negative_ttl_ms);
	if (!ok && c->stale && answer_stale(m, c, f, err)) {
		lm_store_abandon(lm_rt->store, &c->req);
		return;
	}
	lm_count(m->id, c->l2_down ? LM_C_bypassed : LM_C_misses, 1);
	if (ttl <= 0) {
		lm_store_abandon(lm_rt->store, &c->req);
		if (!ok)
			lm_count(m->id, LM_C_uncacheable, 1);
		return;
	}
	size_t vbase = t_arena.len;
	if (lm_plan_capture(m->plan, f, *err, &t_arena) != 0) {
		lm_store_abandon(lm_rt->store, &c->req);
		return;
	}
	c->req.key = t_arena.p + c->base; /* the arena may have moved */
	size_t vlen = t_arena.len - vbase;
	/* A shared method's local copy lives at most l1_ttl without asking L2. */
	int64_t l1_ttl =
	    m->shared && ttl > lm_rt->cfg.global.l1_ttl_ms ? lm_rt->cfg.global.l1_ttl_ms : ttl;
	/* the copy expires with the entry: from the clock the lookup read */
	int64_t now = c->req.now_ms ? c->req.now_ms : lm_clock_ms();
	int64_t expires = l1_ttl == LM_DUR_NEVER ? LM_DUR_NEVER : now + l1_ttl;
	if (lm_store_fill(lm_rt->store, &c->req, t_arena.p + vbase, vlen, l1_ttl) == 1) {
		lm_count(m->id, LM_C_stored, 1);
		if (!ok)
			lm_count(m->id, LM_C_negative, 1);
		keep_copy(h, m, c, f, t_arena.p + vbase, vlen, *err, expires, false);
		if (!m->fast)
			lm_front_grow();
	}
	if (m->host)
		lm_host_set(lm_rt->host, &m->hm, c->req.hash, c->req.key, c->klen,
		            t_arena.p + vbase, vlen, ttl, &c->ticket);
	if (m->shared && !c->l2_down)
		lm_l2_set(lm_rt->l2, m->id, c->req.key, c->klen, t_arena.p + vbase, vlen, ttl);
}

/* *MIN = V when V is smaller (or *MIN unset); a 0 becomes 1 to stay set. */
static void keep_min(uint64_t *min, uint64_t v)
{
	uint64_t cur = __atomic_load_n(min, __ATOMIC_RELAXED);
	v = v ? v : 1;
	while ((cur == 0 || v < cur) &&
	       !__atomic_compare_exchange_n(min, &cur, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

void lm_dispatch_leave(struct lm_hook *h, struct lm_frame *f)
{
	struct lm_rt_method *m = method_of(h);
	int err = errno;
	struct lm_call *c = (struct lm_call *)f->call;
	lm_guard_enter();
	if (!inflight_pop(c, f)) {
		t_arena.len = c->base;
		lm_guard_leave();
		errno = err;
		return;
	}
	int64_t t1 = timed_now(c);
	if (c->weight)
		lm_count(m->id, LM_C_miss_ns, (uint64_t)(t1 - c->start_ns) * c->weight);

	switch ((enum call_mode)c->mode) {
	case CALL_FILL:
		leave_fill(h, m, c, f, &err);
		break;
	case CALL_VERIFY:
		leave_verify(m, c, f, err);
		break;
	case CALL_NOFILL:
		lm_count(m->id, LM_C_misses, 1);
		break;
	case CALL_UNSTORED:
		lm_count(m->id, LM_C_misses, 1);
		if (!lm_plan_when(m->plan, f, err))
			lm_count(m->id, LM_C_uncacheable, 1);
		break;
	}
	if (c->stale)
		lm_entry_unref(lm_rt->store, c->stale);
	if (c->weight) {
		keep_min(&m->min_call_ns, (uint64_t)(t1 - c->start_ns));
		lm_adaptive_sample(m, (uint64_t)(t1 - c->start_ns));
		/* an unstored miss looks nothing up and only counts: cheaper
		 * than reading the clock again */
		if (c->mode != CALL_UNSTORED)
			keep_min(&m->min_lookup_ns, (uint64_t)c->lookup_ns);
		int64_t t2 = c->mode == CALL_UNSTORED ? t1 : lm_now_ns();
		lm_count(m->id, LM_C_cost_ns, (uint64_t)(c->lookup_ns + (t2 - t1)) * c->weight);
	}
	lm_adaptive_after_miss(m);
	/* The arena is a stack: calls nested in the original popped what they
	 * pushed, so this call's key is still in place. */
	LM_ASSERT(t_arena.len >= c->base + c->klen);
	t_arena.len = c->base;
	lm_guard_leave();
	errno = err;
}

/* The original was left by an unwinder (frame.h): nothing to store, the
 * waiters to wake. */
void lm_dispatch_unwound(struct lm_hook *h, struct lm_frame *f)
{
	struct lm_rt_method *m = method_of(h);
	int err = errno;
	struct lm_call *c = (struct lm_call *)f->call;
	lm_guard_enter();
	if (inflight_pop(c, f))
		release_call(m->id, &c->req, c->stale,
		             c->mode == CALL_VERIFY ? c->verify_entry : NULL);
	t_arena.len = c->base;
	lm_guard_leave();
	errno = err;
}

/* ---- Write functions ---------------------------------------------------- */

/* Drop records laid out in the arena at the call, applied after it:
 * a header, then the key or pattern bytes. */
struct drop_rec {
	uint32_t drop; /* index into the method's drops */
	uint32_t exact;
	uint32_t len;
	uint64_t hash;
};

struct write_call {
	size_t base;
	int ok; /* the drop list was built */
};
_Static_assert(sizeof(struct write_call) <= LM_CALL_STATE_SIZE, "call state fits the frame");

struct rec_ctx {
	uint32_t drop;
	int failed;
};

static int push_rec(uint32_t drop, uint32_t exact, const void *bytes, size_t len)
{
	struct drop_rec r = {.drop = drop, .exact = exact, .len = (uint32_t)len};
	r.hash = exact ? lm_key_hash(bytes, (uint32_t)len) : 0;
	if (lm_buf_reserve(&t_arena, sizeof r + len) != 0)
		return -1;
	lm_buf_append(&t_arena, &r, sizeof r);
	lm_buf_append(&t_arena, bytes, len);
	return 0;
}

static void on_exact_key(const void *key, uint32_t klen, void *arg)
{
	struct rec_ctx *rc = arg;
	if (push_rec(rc->drop, 1, key, klen) != 0)
		rc->failed = 1;
}

static int build_drops(struct lm_rt_method *m, struct lm_frame *f)
{
	for (uint32_t i = 0; i < m->ndrops; i++) {
		struct lm_rt_drop *d = &m->drops[i];
		if (d->kind != LM_DROP_KEY) {
			if (push_rec(i, 0, NULL, 0) != 0)
				return -1;
			continue;
		}
		struct rec_ctx rc = {.drop = i};
		t_pattern.len = 0;
		int r = lm_drop_plan_keys(d->dp, f, on_exact_key, &rc, &t_pattern);
		if (r < 0 || rc.failed)
			return -1;
		if (r == 0 && push_rec(i, 0, t_pattern.p, t_pattern.len) != 0)
			return -1;
	}
	return 0;
}

int lm_dispatch_enter_write(struct lm_hook *h, struct lm_frame *f)
{
	struct lm_rt_method *m = method_of(h);
	LM_KEEP_ERRNO();
	if (__builtin_expect(reentered(), 0))
		return bypass(m, errno);
	lm_guard_enter();
	if (__builtin_expect(!t_arena.pooled, 0))
		arena_attach();
	lm_count(m->id, LM_C_calls, 1);
	struct write_call *w = (struct write_call *)f->call;
	w->base = t_arena.len;
	w->ok = build_drops(m, f) == 0;
	if (!w->ok) {
		/* Cannot tell what to drop: drop the targets whole, which is
		 * always correct, only costlier. */
		t_arena.len = w->base;
	}
	lm_guard_leave();
	return LM_ENTER_CALL;
}

struct match_ctx {
	const struct lm_drop_plan *dp;
	const void *pattern;
	size_t plen;
};

static bool match_pattern(const void *key, uint32_t klen, void *arg)
{
	struct match_ctx *mc = arg;
	return lm_drop_plan_matches(mc->dp, mc->pattern, mc->plen, key, klen);
}

static size_t drop_whole(const struct lm_rt_drop *d)
{
	return d->kind == LM_DROP_ALL ? lm_invalidate_all() : lm_invalidate_method(d->target);
}

static size_t apply_drops(struct lm_rt_method *m, const struct write_call *w)
{
	size_t dropped = 0;
	if (!w->ok) {
		for (uint32_t i = 0; i < m->ndrops; i++)
			dropped += drop_whole(&m->drops[i]);
		return dropped;
	}
	size_t off = w->base;
	while (off < t_arena.len) {
		struct drop_rec r;
		memcpy(&r, t_arena.p + off, sizeof r);
		const unsigned char *bytes = t_arena.p + off + sizeof r;
		const struct lm_rt_drop *d = &m->drops[r.drop];
		if (d->kind != LM_DROP_KEY) {
			dropped += drop_whole(d);
		} else if (r.exact) {
			dropped += lm_invalidate_key_hashed(d->target, r.hash, bytes, r.len);
		} else {
			struct match_ctx mc = {d->dp, bytes, r.len};
			dropped += lm_invalidate_match(d->target, match_pattern, &mc);
		}
		off += sizeof r + r.len;
	}
	return dropped;
}

void lm_dispatch_leave_write(struct lm_hook *h, struct lm_frame *f)
{
	struct lm_rt_method *m = method_of(h);
	int err = errno;
	struct write_call *w = (struct write_call *)f->call;
	lm_guard_enter();
	if (lm_plan_when(m->plan, f, err))
		lm_count(m->id, LM_C_dropped, apply_drops(m, w));
	t_arena.len = w->base;
	lm_guard_leave();
	errno = err;
}

/* A write function left by an unwinder may have written before it threw:
 * its drops apply as after a success. */
void lm_dispatch_unwound_write(struct lm_hook *h, struct lm_frame *f)
{
	struct lm_rt_method *m = method_of(h);
	int err = errno;
	struct write_call *w = (struct write_call *)f->call;
	lm_guard_enter();
	lm_count(m->id, LM_C_dropped, apply_drops(m, w));
	t_arena.len = w->base;
	lm_guard_leave();
	errno = err;
}
