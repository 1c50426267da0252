#include "fast.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "counters.h"
#include "shim/base/clock.h"
#include "shim/base/guard.h"
#include "shim/base/tpool.h"

__thread struct lm_fast_table *lm_fast_table;

/* Read by thunk_fast.S. errno lives in libc's static TLS block, so its
 * offset from the thread pointer is the same in every thread. */
intptr_t lm_fast_errno_tpoff;
/* The vDSO's clock_gettime, called directly for copies with an expiry:
 * the kernel compiles it without SSE, so the thunk saves only general
 * registers around it. NULL (no vDSO, as under valgrind): methods whose
 * copies expire get no fast thunk and use the front cache. */
int (*lm_fast_clock)(clockid_t, struct timespec *);
/* The kernel's coarse clock words (lm_clock_coarse_words): with them the
 * thunk checks an expiry with three loads instead of a call, which cost a
 * hit with the default ttl twice one without. NULL: the call above. Found
 * when the first method whose copies expire gets a thunk; dropped by a
 * fill that finds them disagreeing with the clock. */
const volatile int64_t *lm_fast_coarse;
static pthread_once_t coarse_once = PTHREAD_ONCE_INIT;

static void find_coarse(void)
{
	lm_fast_coarse = lm_clock_coarse_words();
}

/* thunk_fast.S: per key shape, one thunk per result kind. */
#define LM_SHAPE(name)                                                            \
	void lm_fast_thunk_##name##_void(void), lm_fast_thunk_##name##_int(void), \
	    lm_fast_thunk_##name##_float(void)
LM_SHAPE(none);
LM_SHAPE(rdi);
LM_SHAPE(rsi);
LM_SHAPE(xmm0);
LM_SHAPE(rdi_rsi);
LM_SHAPE(rdi_rdx);
LM_SHAPE(rsi_rdx);
LM_SHAPE(xmm0_xmm1);
LM_SHAPE(rdi_xmm0);
LM_SHAPE(xmm0_rdi);
#undef LM_SHAPE

enum { RDI = 0, RSI = 8, RDX = 16, XMM0 = 64, XMM1 = 80, NONE = UINT32_MAX };

/* The key shapes a thunk exists for: the first one or two integer or
 * float arguments (an `ignore`d first one too). Others use lm_thunk. */
#define LM_SHAPE(a, b, name)                                                     \
	{                                                                        \
		{a, b},                                                          \
		{                                                                \
			lm_fast_thunk_##name##_void, lm_fast_thunk_##name##_int, \
			    lm_fast_thunk_##name##_float                         \
		}                                                                \
	}
static const struct {
	uint32_t src[2];
	lm_fast_entry_fn fn[3]; /* by enum lm_fast_ret */
} shapes[] = {
    LM_SHAPE(NONE, NONE, none),    LM_SHAPE(RDI, NONE, rdi),        LM_SHAPE(RSI, NONE, rsi),
    LM_SHAPE(XMM0, NONE, xmm0),    LM_SHAPE(RDI, RSI, rdi_rsi),     LM_SHAPE(RDI, RDX, rdi_rdx),
    LM_SHAPE(RSI, RDX, rsi_rdx),   LM_SHAPE(XMM0, XMM1, xmm0_xmm1), LM_SHAPE(RDI, XMM0, rdi_xmm0),
    LM_SHAPE(XMM0, RDI, xmm0_rdi),
};
#undef LM_SHAPE

static pthread_key_t table_key;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

/* At thread exit, back to the pool for the next thread. A later
 * destructor that calls a fast method finds no table rather than one
 * another thread may own. */
static void table_free(void *t)
{
	lm_fast_table = NULL;
	lm_tpool_give(t, sizeof(struct lm_fast_table));
}

static void make_key(void)
{
	pthread_key_create(&table_key, table_free);
}

void lm_fast_init(void)
{
	/* Before the counters' key: glibc runs destructors in key order, so a
	 * thread's table (whose slots point into its counters block) is gone
	 * before the block is handed back. */
	pthread_once(&table_once, make_key);
	uintptr_t tp;
	__asm__("movq %%fs:0, %0" : "=r"(tp));
	lm_fast_errno_tpoff = (intptr_t)((uintptr_t)&errno - tp);
	LM_KEEP_ERRNO();
	/* Not when the process defines its own clock_gettime: copies then
	 * expire on its time, through the dispatcher (clock.h). */
	void *vdso = lm_clock_is_libc() ? dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_NOLOAD) : NULL;
	if (vdso)
		lm_fast_clock =
		    (int (*)(clockid_t, struct timespec *))dlsym(vdso, "__vdso_clock_gettime");
}

lm_fast_entry_fn lm_fast_prepare(const struct lm_plan *p, uint32_t id, const uint64_t *epoch,
                                 bool expires, struct lm_fast_desc *d)
{
	if (expires && !lm_fast_clock)
		return NULL;
	if (expires)
		pthread_once(&coarse_once, find_coarse);
	uint32_t off[2] = {NONE, NONE};
	uint8_t width[2] = {0, 0};
	int n = lm_plan_register_key(p, off, width);
	enum lm_scalar k = lm_plan_scalar(p);
	if (n < 0 || k == LM_SCALAR_NO)
		return NULL;
	enum lm_fast_ret ret = k == LM_SCALAR_INT     ? LM_FAST_INT
	                       : k == LM_SCALAR_FLOAT ? LM_FAST_FLOAT
	                                              : LM_FAST_VOID;
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
		if (shapes[i].src[0] != off[0] || shapes[i].src[1] != off[1])
			continue;
		*d = (struct lm_fast_desc){
		    .seed = (id + 1) * 0x9e3779b97f4a7c15ull,
		    .epoch = epoch,
		    .hits_off = offsetof(struct lm_tblock, v) +
		                sizeof(uint64_t) * ((uint64_t)id * LM_C_COUNT + LM_C_hits),
		    .ret = ret,
		    .nkeys = (uint32_t)n,
		};
		for (int j = 0; j < n; j++) {
			d->src[j] = off[j];
			d->mask[j] = width[j] >= 8 ? ~0ull : (1ull << (8 * width[j])) - 1;
		}
		return shapes[i].fn[ret];
	}
	return NULL;
}

static struct lm_fast_table *table_alloc(void)
{
	/* Hits are counted in the thread's counters block through the slots. */
	if (!lm_tls_counters && lm_counters_attach() != 0)
		return NULL;
	pthread_once(&table_once, make_key); /* done by lm_fast_init already */
	_Static_assert(LM_FS_SIZE <= 64, "the pool's blocks are 64-byte aligned");
	struct lm_fast_table *t = lm_tpool_take(sizeof *t);
	if (!t)
		return NULL;
	pthread_setspecific(table_key, t);
	lm_fast_table = t;
	return t;
}

static bool holds(const struct lm_fast_slot *s, const struct lm_hook_head *h, const uint64_t k[2])
{
	return s->head == h && s->k[0] == k[0] && s->k[1] == k[1];
}

static int used(const struct lm_fast_slot *t, uint32_t set)
{
	return (t[set].head != NULL) + (t[set + 1].head != NULL);
}

/* Room in SET, made if need be by moving one of its copies to that copy's
 * other set: the empty slot, or NULL. */
static struct lm_fast_slot *room(struct lm_fast_slot *t, uint32_t set)
{
	for (int j = 0; j < 2; j++)
		if (!t[set + j].head)
			return &t[set + j];
	for (int j = 0; j < 2; j++) {
		struct lm_fast_slot *s = &t[set + j];
		uint32_t alt[2];
		lm_fast_sets(&s->head->fast, s->k[0], s->k[1], alt);
		uint32_t other = alt[0] == set ? alt[1] : alt[0];
		for (int i = 0; other != set && i < 2; i++)
			if (!t[other + i].head) {
				t[other + i] = *s;
				return s;
			}
	}
	return NULL;
}

/* Where a copy of K goes: the slot that holds it; else an empty slot of
 * the emptier of its two sets; else room made by moving a copy out of one
 * of them (one cuckoo step: with it a thousand keys fit 1,024 sets, without
 * it a few are evicted, and a loop over them misses on every round); else the first set's first
 * slot, whose copy moves to the second slot: the older of the two makes room. */
static struct lm_fast_slot *where(struct lm_fast_table *ft, const uint32_t set[2],
                                  const struct lm_hook_head *h, const uint64_t k[2])
{
	struct lm_fast_slot *t = ft->slot;
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			if (holds(&t[set[i] + j], h, k))
				return &t[set[i] + j];
	int first = used(t, set[1]) < used(t, set[0]);
	struct lm_fast_slot *s = room(t, set[first]);
	if (!s)
		s = room(t, set[!first]);
	if (s)
		return s;
	t[set[0] + 1] = t[set[0]];
	return &t[set[0]];
}

void lm_fast_put(const struct lm_hook_head *h, const struct lm_frame *f, int err,
                 int64_t expires_ms, uint64_t epoch)
{
	const struct lm_fast_desc *d = &h->fast;
	struct lm_fast_table *t = lm_fast_table ? lm_fast_table : table_alloc();
	if (!t)
		return;
	uint64_t k[2] = {0, 0};
	for (uint32_t i = 0; i < d->nkeys; i++) {
		memcpy(&k[i], (const unsigned char *)f + d->src[i], sizeof k[i]);
		k[i] &= d->mask[i];
	}
	uint32_t set[2];
	lm_fast_sets(d, k[0], k[1], set);
	struct lm_fast_slot *s = where(t, set, h, k);
	/* Once per fill: the words must still be the clock, else an expiry
	 * could be read against a time that no longer moves. */
	if (lm_fast_coarse && expires_ms != LM_DUR_NEVER && !lm_clock_coarse_check())
		lm_fast_coarse = NULL;
	*s = (struct lm_fast_slot){
	    .head = h,
	    .k = {k[0], k[1]},
	    .value = d->ret == LM_FAST_INT     ? f->ret_rax
	             : d->ret == LM_FAST_FLOAT ? f->ret_xmm0[0]
	                                       : 0,
	    .epoch = epoch,
	    .expires_ms = expires_ms == LM_DUR_NEVER ? -1 : expires_ms,
	    .err = err,
	    /* attached before the table was made (table_alloc) */
	    .hits = (uint64_t *)((unsigned char *)lm_tls_counters + d->hits_off),
	};
	/* The thunk skips the table while lm_in_shim is set (a signal handler
	 * on this thread); the slot must be whole before the caller clears it. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}
