/* Adaptive bypass ([global] adaptive, default on): a method whose calls
 * are too cheap to cache, or whose hit ratio leaves the cache costing more
 * than it saves, stops being cached: its hook steps aside (the function's
 * own code or GOT slots again), so its calls cost what they cost without
 * ldmemo. It is hooked again now and then, for a sample window, so that a
 * change of phase is noticed. Judged on the miss path only. */
#ifndef LM_ADAPTIVE_H
#define LM_ADAPTIVE_H

#include <stdint.h>

#include "config/defaults.h"

/* A method's numbers over a window (since it was last hooked). */
struct lm_adaptive_window {
	uint64_t hits, misses;
	uint64_t miss_ns;     /* the function's own time on misses */
	uint64_t cost_ns;     /* ldmemo's time on misses (lookup and store) */
	uint64_t min_call_ns; /* the fastest call seen (0: none) */
	/* The mean of the recent timed calls without the slowest eighth (0:
	 * too few yet): one call preempted on a loaded machine weighs in the
	 * mean of 64 as much as 64 calls, and kept a cheap method cached. */
	uint64_t typical_call_ns;
};

/* Recent timed calls kept per method for typical_call_ns. */
#define LM_ADAPT_SAMPLES 32

enum lm_adaptive_verdict {
	LM_ADAPT_WAIT,   /* too few misses to say */
	LM_ADAPT_KEEP,   /* caching pays */
	LM_ADAPT_CHEAP,  /* a call costs less than two lookups */
	LM_ADAPT_NO_PAY, /* after warm-up, hits save less than misses cost */
};

/* The decision on W, a hit costing about HIT_NS (a lookup). A call costs
 * its mean, or its typical time where that is lower. It is cheap when that
 * is below two lookups, or when the fastest call beats the fastest lookup
 * and the cost stays below four. */
enum lm_adaptive_verdict lm_adaptive_judge(const struct lm_adaptive_window *w, uint64_t hit_ns);
const char *lm_adaptive_why(enum lm_adaptive_verdict v);

struct lm_rt_method;
/* After a miss of M (leave): now and then, judge M and step aside. */
void lm_adaptive_after_miss(struct lm_rt_method *m);
/* A timed miss of M took NS in the function. */
void lm_adaptive_sample(struct lm_rt_method *m, uint64_t ns);
/* The mean of N samples without their slowest eighth (0 when N is below
 * half of LM_ADAPT_SAMPLES). */
uint64_t lm_adaptive_typical(const uint32_t *samples, unsigned n);
/* On any method's slow path: hook again the bypassed methods whose next
 * sample is due. One load and compare when none is. */
void lm_adaptive_tick(void);

/* Calls of M that went straight to the function while it stepped aside
 * (the hook's counting stub), since the last lm_adaptive_reset_counts. */
uint64_t lm_adaptive_bypassed(const struct lm_rt_method *m);
/* Start those counts again from zero (a fork child's statistics). */
void lm_adaptive_reset_counts(void);

/* While held, no step aside and no sample runs (the miss path only tries
 * the lock): held while the hooks of a closed library are released. */
void lm_adaptive_hold(void);
void lm_adaptive_release(void);
/* M's hook went with its object: forget its window and any step aside,
 * keeping BYPASSED, what the hook's counting stub counted, in M's
 * counters. Only while held. */
void lm_adaptive_forget(struct lm_rt_method *m, uint64_t bypassed);

#endif
