#include "fast.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "config/config.h"
#include "counters.h"
#include "shim/base/clock.h"
#include "shim/base/guard.h"
#include "shim/base/huge.h"
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
/* The out shape: key in rdi, out pointer in rsi (lm_plan_register_out). */
void lm_fast_thunk_rdi_out_rsi_void(void), lm_fast_thunk_rdi_out_rsi_int(void);
/* The string key in rdi (lm_plan_register_str), by result kind. */
void lm_fast_thunk_str_rdi_void(void), lm_fast_thunk_str_rdi_int(void),
    lm_fast_thunk_str_rdi_float(void);
static const lm_fast_entry_fn str_thunks[3] = {
    lm_fast_thunk_str_rdi_void, lm_fast_thunk_str_rdi_int, lm_fast_thunk_str_rdi_float};

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

/* Bytes of the slots, and so of the array of bytes kept beside them. */
static size_t slots_bytes(unsigned set_bits)
{
	return ((size_t)2 << set_bits) * LM_FS_SIZE;
}

/* A table whose slots fill one 2 MiB huge page or more gets them aligned
 * to one (where the kernel grants them), its header line the end of the
 * 4 KiB page below, and so does its array of kept bytes: the hits of
 * 10,000 keys spread over 512 small pages miss the first-level TLB nearly
 * every time (40,000,000 hits of f over 10,000 keys: 0.475 s of CPU
 * against 0.545, medians of 6; for u's kept bytes, 17.5 ns a hit against
 * 18.8, medians of 3). Mapped when a thread grows that far and unmapped
 * at its exit, not pooled: the pool's blocks are not aligned so. */
static bool huge(unsigned set_bits)
{
	return slots_bytes(set_bits) >= LM_HUGE_PAGE;
}

static struct lm_fast_table *huge_take(unsigned set_bits)
{
	unsigned char *slots = lm_huge_map(slots_bytes(set_bits), LM_PAGE);
	return slots ? (struct lm_fast_table *)(slots - LM_FT_SLOTS) : NULL;
}

/* The mapping of huge table T: its header's page and its slots. */
static unsigned char *huge_start(const struct lm_fast_table *t)
{
	return (unsigned char *)t + LM_FT_SLOTS - LM_PAGE;
}

/* This thread's huge table grown out of, or NULL: its pages were given
 * back at once (they read as zeros), its mapping goes at the next growth
 * or at the thread's exit. A fast thunk interrupted by a signal between
 * loading the table and marking it busy, whose handler's fill grew it (a
 * handler the shim cannot see), so still reads mapped memory: a zero
 * header, and no slot holding a copy, send it on to lm_thunk. */
static __thread unsigned char *t_retired;
static __thread size_t t_retired_len;

static void retired_unmap(void)
{
	if (t_retired)
		munmap(t_retired, t_retired_len);
	t_retired = NULL;
}

/* T's kept bytes, if any, go back. */
static void blob_give(struct lm_fast_table *t)
{
	const size_t n = slots_bytes(t->set_bits);
	unsigned char *blob = (unsigned char *)t->slot + t->blob;
	if (t->blob && huge(t->set_bits))
		munmap(blob, n);
	else if (t->blob)
		lm_tpool_give(blob, n);
}

static void table_give(struct lm_fast_table *t)
{
	blob_give(t);
	if (huge(t->set_bits))
		munmap(huge_start(t), LM_PAGE + slots_bytes(t->set_bits));
	else
		lm_tpool_give(t, lm_fast_table_bytes(t->set_bits));
}

/* T, this thread's table until now, is grown out of. A thunk never reads
 * the kept bytes before it marked the table busy, nor does a fill run
 * while it is: they go at once. */
static void table_retire(struct lm_fast_table *t)
{
	if (!huge(t->set_bits)) {
		table_give(t);
		return;
	}
	blob_give(t);
	retired_unmap();
	t_retired = huge_start(t);
	t_retired_len = LM_PAGE + slots_bytes(t->set_bits);
	madvise(t_retired, t_retired_len, MADV_DONTNEED);
}

/* At thread exit, back to the pool for the next thread. A later
 * destructor that calls a fast method finds no table rather than one
 * another thread may own. */
static void table_free(void *p)
{
	lm_fast_table = NULL;
	table_give(p);
	retired_unmap();
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

/* The gate of a method whose pointer arguments nobody checks. */
static const uint32_t open_gate;

void lm_fast_clock_check(int64_t expires_ms)
{
	if (lm_fast_coarse && expires_ms != LM_DUR_NEVER && !lm_clock_coarse_check())
		lm_fast_coarse = NULL;
}

lm_fast_entry_fn lm_fast_prepare(const struct lm_plan *p, uint32_t id, const uint64_t *epoch,
                                 bool expires, struct lm_fast_desc *d)
{
	if (expires && !lm_fast_clock)
		return NULL;
	if (expires)
		pthread_once(&coarse_once, find_coarse);
	uint32_t off[2] = {NONE, NONE}, out_src = 0, out_len = 0;
	uint8_t width[2] = {0, 0};
	int n = lm_plan_register_key(p, off, width);
	enum lm_scalar k = lm_plan_scalar(p);
	bool str = false;
	if (n < 0 &&
	    (k = lm_plan_register_out(p, &off[0], &width[0], &out_src, &out_len)) != LM_SCALAR_NO) {
		n = 1;
	} else if (n < 0 && (k = lm_plan_register_str(p, &off[0])) != LM_SCALAR_NO) {
		/* two key words, both the thunk's: the hash and the length */
		n = 2;
		str = true;
		width[0] = width[1] = 8;
	}
	if (n < 0 || k == LM_SCALAR_NO)
		return NULL;
	enum lm_fast_ret ret = k == LM_SCALAR_INT     ? LM_FAST_INT
	                       : k == LM_SCALAR_FLOAT ? LM_FAST_FLOAT
	                                              : LM_FAST_VOID;
	lm_fast_entry_fn fn = NULL;
	if (str) {
		if (off[0] == RDI)
			fn = str_thunks[ret];
	} else if (out_len) {
		if (off[0] == RDI && out_src == RSI)
			fn = ret == LM_FAST_INT ? lm_fast_thunk_rdi_out_rsi_int
			                        : lm_fast_thunk_rdi_out_rsi_void;
	} else {
		for (size_t i = 0; !fn && i < sizeof shapes / sizeof shapes[0]; i++)
			if (shapes[i].src[0] == off[0] && shapes[i].src[1] == off[1])
				fn = shapes[i].fn[ret];
	}
	if (!fn)
		return NULL;
	*d = (struct lm_fast_desc){
	    .seed = (id + 1) * 0x9e3779b97f4a7c15ull,
	    .epoch = epoch,
	    .hits_off = offsetof(struct lm_tblock, v) +
	                sizeof(uint64_t) * ((uint64_t)id * LM_C_COUNT + LM_C_hits),
	    .ret = ret,
	    .nkeys = (uint32_t)n,
	    .out_len = out_len,
	    .out_src = out_src,
	    .blob_len = str ? LM_FAST_STR_MAX : out_len,
	    .str = str,
	    .gate = &open_gate,
	};
	for (int j = 0; j < n; j++) {
		d->src[j] = off[j];
		d->mask[j] = width[j] >= 8 ? ~0ull : (1ull << (8 * width[j])) - 1;
	}
	return fn;
}

/* An empty table of 2^SET_BITS sets, or NULL. */
static struct lm_fast_table *table_new(unsigned set_bits)
{
	_Static_assert(LM_FS_SIZE <= 64, "the pool's blocks are 64-byte aligned");
	_Static_assert(LM_FAST_TORN_MS == LM_CLOCK_TORN_MS, "one slack for torn reads");
	struct lm_fast_table *t =
	    huge(set_bits) ? huge_take(set_bits) : lm_tpool_take(lm_fast_table_bytes(set_bits));
	if (!t)
		return NULL;
	t->set_bits = set_bits;
	t->mask[0] = ((uint64_t)1 << set_bits) - 1;
	t->mask[1] = t->mask[0] << 7;
	return t;
}

/* T becomes this thread's table, freed at its exit. */
static void table_own(struct lm_fast_table *t)
{
	pthread_setspecific(table_key, t);
	lm_fast_table = t;
}

static struct lm_fast_table *table_alloc(void)
{
	/* Hits are counted in the thread's counters block through the slots. */
	if (!lm_tls_counters && lm_counters_attach() != 0)
		return NULL;
	pthread_once(&table_once, make_key); /* done by lm_fast_init already */
	struct lm_fast_table *t = table_new(LM_FAST_SET_BITS);
	if (t)
		table_own(t);
	return t;
}

/* The bytes slot S of table T keeps beside it (T has the array). */
static unsigned char *blob_of(const struct lm_fast_table *t, const struct lm_fast_slot *s)
{
	return (unsigned char *)s + t->blob;
}

/* T's array of kept bytes, made if need be: false without memory. */
static bool blob_ensure(struct lm_fast_table *t)
{
	_Static_assert(LM_PLAN_FAST_OUT_MAX <= LM_FS_SIZE && LM_FAST_STR_MAX <= LM_FS_SIZE,
	               "one block per slot, at the slot's stride");
	if (t->blob)
		return true;
	const size_t n = slots_bytes(t->set_bits);
	unsigned char *b = huge(t->set_bits) ? lm_huge_map(n, 0) : lm_tpool_take(n);
	if (!b)
		return false;
	t->blob = (intptr_t)(b - (unsigned char *)t->slot);
	return true;
}

/* Copy slot SRC of table FROM, with its kept bytes, into slot DST of
 * table TO (TO has the array when FROM has). */
static void slot_copy(struct lm_fast_table *to, struct lm_fast_slot *dst,
                      const struct lm_fast_table *from, const struct lm_fast_slot *src)
{
	*dst = *src;
	if (src->head && src->head->fast.blob_len)
		memcpy(blob_of(to, dst), blob_of(from, src), src->head->fast.blob_len);
}

static bool holds(const struct lm_fast_slot *s, const struct lm_hook_head *h, const uint64_t k[2])
{
	return s->head == h && s->k[0] == k[0] && s->k[1] == k[1];
}

/* A copy the thunk would still answer with, as far as an eviction or a
 * growth needs to know: the rough clock, since the thunk checks again. */
static bool valid(const struct lm_fast_slot *s)
{
	return s->head && s->epoch == __atomic_load_n(s->head->fast.epoch, __ATOMIC_RELAXED) &&
	       (s->expires_ms == -1 || s->expires_ms > lm_clock_rough_ms());
}

/* Room in SET of table FT, made if need be by moving one of its copies to
 * that copy's other set: the empty slot, or NULL. */
static struct lm_fast_slot *room(struct lm_fast_table *ft, uint32_t set)
{
	struct lm_fast_slot *t = ft->slot;
	for (int j = 0; j < 2; j++)
		if (!t[set + j].head)
			return &t[set + j];
	for (int j = 0; j < 2; j++) {
		struct lm_fast_slot *s = &t[set + j];
		uint32_t alt[2];
		lm_fast_sets(&s->head->fast, ft->set_bits, s->k[0], s->k[1], alt);
		uint32_t other = alt[0] == set ? alt[1] : alt[0];
		for (int i = 0; other != set && i < 2; i++)
			if (!t[other + i].head) {
				slot_copy(ft, &t[other + i], ft, s);
				return s;
			}
	}
	return NULL;
}

/* Where a copy of K goes: the slot that holds it; else the first empty
 * slot in the thunk's probe order (a hit there reads the fewest lines: in a
 * table grown past the L2 cache each costs a hit several ns); else room
 * made by moving a copy out of one of its sets (one cuckoo step: with it a
 * thousand keys fit 1,024 sets, without it a few are evicted, and a loop
 * over them misses on every round); else the first set's first slot, whose
 * copy moves to the second slot: the older of the two makes room. With
 * COUNT, an evicted copy that was still valid is counted (lm_fast_put
 * grows the table on them); without EVICT, NULL instead of evicting one. */
static struct lm_fast_slot *where(struct lm_fast_table *ft, const uint32_t set[2],
                                  const struct lm_hook_head *h, const uint64_t k[2], bool evict,
                                  bool count)
{
	struct lm_fast_slot *t = ft->slot;
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			if (holds(&t[set[i] + j], h, k))
				return &t[set[i] + j];
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			if (!t[set[i] + j].head)
				return &t[set[i] + j];
	struct lm_fast_slot *s = room(ft, set[0]);
	if (!s)
		s = room(ft, set[1]);
	if (s)
		return s;
	if (!evict && valid(&t[set[0] + 1]))
		return NULL;
	ft->evicted += count && valid(&t[set[0] + 1]);
	slot_copy(ft, &t[set[0] + 1], ft, &t[set[0]]);
	return &t[set[0]];
}

static struct lm_fast_slot *where_key(struct lm_fast_table *t, const struct lm_hook_head *h,
                                      const uint64_t k[2], bool evict, bool count)
{
	uint32_t set[2];
	lm_fast_sets(&h->fast, t->set_bits, k[0], k[1], set);
	return where(t, set, h, k, evict, count);
}

/* This thread's calls of every method so far: its hits, misses and
 * bypassed calls (some of which keep a copy: a fill while L2 is down). */
static uint64_t thread_calls(void)
{
	const struct lm_tblock *b = lm_tls_counters;
	uint64_t n = 0;
	for (uint32_t m = 0; b && m < lm_counters_nmethods; m++) {
		const uint64_t *v = &b->v[(size_t)m * LM_C_COUNT];
		n += __atomic_load_n(&v[LM_C_hits], __ATOMIC_RELAXED) +
		     __atomic_load_n(&v[LM_C_misses], __ATOMIC_RELAXED) +
		     __atomic_load_n(&v[LM_C_bypassed], __ATOMIC_RELAXED);
	}
	return n;
}

/* Windows a table set aside stays so, each as many results as it has
 * slots. */
#define LM_FAST_ASIDE 8
/* Store hits between copies that push out another one, in a table at
 * the maximum size: a working set a little larger than the table, called
 * in a cycle, would otherwise find none of its copies. A store hit that
 * finds room is always kept: after a growth, the keys pushed out before
 * it come back in one round. */
#define LM_FAST_COPY_EVERY 8

/* At each result not answered by a table at the maximum size: false
 * while it is set aside. Every window of as many such results as it has
 * slots, it counts the thread's calls: when its hits were fewer than a
 * quarter of them, the working set has outgrown it, and a probe that
 * misses costs a cache miss or two (a million keys of f: 196 ns a hit
 * with the probes, 135 with the table aside, uthash 137). It is set aside
 * for LM_FAST_ASIDE windows, then tried again: a working set that shrank
 * gets it back, its copies still checked against their epoch and expiry. */
static bool judge(struct lm_fast_table *t)
{
	const uint64_t w = (uint64_t)2 << t->set_bits;
	const bool aside = t->busy == LM_FAST_SKIPPING;
	if (++t->passes < (aside ? LM_FAST_ASIDE * w : w))
		return !aside;
	/* counted from zero again since the window began: a forked child's
	 * counters start anew (lm_counters_reset) */
	const uint64_t calls = thread_calls(), n = calls >= t->calls0 ? calls - t->calls0 : calls;
	const bool outgrown = !aside && t->passes > n - n / 4;
	t->passes = 0;
	t->calls0 = calls;
	__atomic_store_n(&t->busy, outgrown ? LM_FAST_SKIPPING : 0, __ATOMIC_RELAXED);
	return !outgrown;
}

/* Rehashed rather than started empty: the valid copies move in a few
 * microseconds, where refilling each would cost the thread a miss through
 * the dispatcher and the store. Only this thread reads its table, and the
 * thunk's lookup is never under way while a fill runs (the busy flag, and
 * lm_in_shim during the fill), so the old table can go at once. */
bool lm_fast_grow(void)
{
	struct lm_fast_table *old = lm_fast_table;
	if (!old || old->set_bits >= LM_FAST_MAX_SET_BITS)
		return false;
	struct lm_fast_table *t = table_new(old->set_bits + LM_FAST_GROW_BITS);
	if (!t)
		return false;
	if (old->blob && !blob_ensure(t)) {
		table_give(t);
		return false;
	}
	for (size_t i = 0; i < (size_t)2 << old->set_bits; i++) {
		const struct lm_fast_slot *s = &old->slot[i];
		if (valid(s))
			slot_copy(t, where_key(t, s->head, s->k, true, false), old, s);
	}
	t->calls0 = thread_calls();
	table_own(t);
	table_retire(old);
	return true;
}

void lm_fast_put(const struct lm_hook_head *h, const struct lm_frame *f, int err,
                 int64_t expires_ms, uint64_t epoch, bool stored)
{
	const struct lm_fast_desc *d = &h->fast;
	struct lm_fast_table *t = lm_fast_table ? lm_fast_table : table_alloc();
	if (!t)
		return;
	/* The working set cycles through more keys than the table holds:
	 * more copies still valid were pushed out since it was made than it
	 * has slots. */
	if (t->evicted > (uint64_t)2 << t->set_bits) {
		if (lm_fast_grow())
			t = lm_fast_table;
		else /* at the maximum (or no memory): counted anew */
			t->evicted = 0;
	}
	if (t->set_bits == LM_FAST_MAX_SET_BITS && !judge(t))
		return;
	/* a store hit's copy may push out another one only by turns */
	const bool evict =
	    t->set_bits < LM_FAST_MAX_SET_BITS || !stored || ++t->tick % LM_FAST_COPY_EVERY == 0;
	/* the bytes the slot keeps: the out bytes the call left in the
	 * caller's buffer, the ones a hit copies back, or the string key; a
	 * NULL one's call is not the thunk's (fast.h) */
	const unsigned char *bytes = NULL;
	size_t nbytes = d->out_len;
	if (d->blob_len) {
		uint64_t w;
		memcpy(&w, (const unsigned char *)f + (d->str ? d->src[0] : d->out_src), sizeof w);
		bytes = (const unsigned char *)(uintptr_t)w; // NOLINT(performance-no-int-to-ptr)
		if (bytes && d->str)
			nbytes = strnlen((const char *)bytes, LM_FAST_STR_MAX + 1);
		if (!bytes || nbytes > LM_FAST_STR_MAX || !blob_ensure(t))
			return;
	}
	uint64_t k[2] = {0, 0};
	if (bytes && d->str)
		lm_fast_str_key(d, (const char *)bytes, (uint32_t)nbytes, k);
	for (uint32_t i = 0; !d->str && i < d->nkeys; i++) {
		memcpy(&k[i], (const unsigned char *)f + d->src[i], sizeof k[i]);
		k[i] &= d->mask[i];
	}
	/* Only a copy pushed out by a key that came back (a store hit) says
	 * the working set outgrew the table: a stream of new keys pushes
	 * copies out too, and a table grown for it would make each of its
	 * probes a cache miss (a million new keys: 2 of the miss's 5). */
	struct lm_fast_slot *s = where_key(t, h, k, evict, stored);
	if (!s)
		return;
	lm_fast_clock_check(expires_ms); /* once per fill */
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
	if (bytes) {
		/* zeros past a string: the block's bytes do not depend on what it
		 * held before */
		memset(blob_of(t, s), 0, d->blob_len);
		memcpy(blob_of(t, s), bytes, nbytes);
	}
	/* The thunk skips the table while lm_in_shim is set (a signal handler
	 * on this thread); the slot must be whole before the caller clears it. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}
