/* Per-method event counters (spec section 5), cheap enough for the hit
 * path: each thread adds to its own block, a dump sums the blocks. Reads
 * take no lock, so a dump from a signal handler cannot deadlock. */
#ifndef LM_COUNTERS_H
#define LM_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

/* cost_ns: ldmemo's own time on misses, before and after the call. */
/* The counters the dispatcher keeps; the store keeps entries, bytes,
 * expired, evicted and invalidated itself. calls is counted for write
 * functions only: for a cached method it is hits + misses + bypassed. One list drives the enum and
 * every writer of statistics. */
#define LM_COUNTER_FIELDS(X) \
	X(calls)             \
	X(hits)              \
	X(misses)            \
	X(bypassed)          \
	X(stored)            \
	X(stale)             \
	X(mismatches)        \
	X(uncacheable)       \
	X(coalesced)         \
	X(miss_ns)           \
	X(dropped)           \
	X(cost_ns)           \
	X(negative)          \
	X(shared_hits)

enum lm_counter {
#define LM_X(name) LM_C_##name,
	LM_COUNTER_FIELDS(LM_X)
#undef LM_X
	    LM_C_COUNT
};

struct lm_tblock {
	struct lm_tblock *next;
	int owned; /* a live thread adds to it */
	uint64_t v[];
};

extern __thread struct lm_tblock *lm_tls_counters;

/* Size the blocks for NMETHODS methods; once, at start-up. */
void lm_counters_init(uint32_t nmethods);
/* Slow path: give this thread a block. 0, or -1 on OOM (not counted). */
int lm_counters_attach(void);
/* Sum of counter C of METHOD over every thread, dead ones included. */
uint64_t lm_counters_sum(uint32_t method, enum lm_counter c);
/* In a forked child: statistics are per process. */
void lm_counters_reset(void);

extern uint32_t lm_counters_nmethods;

static inline void lm_count(uint32_t method, enum lm_counter c, uint64_t n)
{
	struct lm_tblock *b = lm_tls_counters;
	if (__builtin_expect(b == NULL, 0)) {
		if (lm_counters_attach() != 0)
			return;
		b = lm_tls_counters;
	}
	uint64_t *p = &b->v[(uint64_t)method * LM_C_COUNT + c];
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

/* The count of a call that re-entered the shim: it may come from a signal
 * handler that interrupted this thread's own lm_counters_attach, under its
 * lock or inside calloc, so it never attaches. A thread without a block
 * yet counts into the process's shared one. */
void lm_count_reentered(uint32_t method, enum lm_counter c, uint64_t n);

#endif
