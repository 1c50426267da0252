/* Adaptive bypass (adaptive.h). The counters are the statistics' own
 * (summed over threads only when a verdict is due, every
 * LM_ADAPT_MIN_MISSES misses); transitions take a lock, on the miss path. */
#include "adaptive.h"

#include <pthread.h>
#include <string.h>

#include "counters.h"
#include "shim/hook/hook.h"
#include "runtime.h"
#include "shim/base/clock.h"
#include "shim/base/log.h"

/* The first sample comes this long after a bypass; each bypass after a
 * sample doubles it, up to the maximum. */
#define RECHECK_FIRST_MS 1000
#define RECHECK_MAX_MS   64000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t next_check_ms = INT64_MAX;

enum lm_adaptive_verdict lm_adaptive_judge(const struct lm_adaptive_window *w, uint64_t hit_ns)
{
	if (w->misses < LM_ADAPT_MIN_MISSES)
		return LM_ADAPT_WAIT;
	double call = (double)w->miss_ns / (double)w->misses;
	if (w->typical_call_ns && (double)w->typical_call_ns < call)
		call = (double)w->typical_call_ns;
	double cost = (double)w->cost_ns / (double)w->misses;
	if (call < 2.0 * (double)hit_ns ||
	    (w->min_call_ns && w->min_call_ns < hit_ns && call < 4.0 * (double)hit_ns))
		return LM_ADAPT_CHEAP;
	if (w->hits + w->misses < LM_ADAPT_WARMUP)
		return LM_ADAPT_WAIT;
	if ((double)w->hits * (call - (double)hit_ns) < (double)w->misses * cost)
		return LM_ADAPT_NO_PAY;
	return LM_ADAPT_KEEP;
}

const char *lm_adaptive_why(enum lm_adaptive_verdict v)
{
	switch (v) {
	case LM_ADAPT_CHEAP:
		return "a call costs less than two lookups";
	case LM_ADAPT_NO_PAY:
		return "at this hit ratio the misses cost more than the hits save";
	default:
		return "caching pays";
	}
}

static struct lm_adaptive_window now_window(const struct lm_rt_method *m)
{
	return (struct lm_adaptive_window){
	    .hits = lm_counters_sum(m->id, LM_C_hits),
	    .misses = lm_counters_sum(m->id, LM_C_misses),
	    .miss_ns = lm_counters_sum(m->id, LM_C_miss_ns),
	    .cost_ns = lm_counters_sum(m->id, LM_C_cost_ns),
	};
}

static struct lm_adaptive_window since(const struct lm_adaptive_window *now,
                                       const struct lm_adaptive_window *base)
{
	return (struct lm_adaptive_window){
	    .hits = now->hits - base->hits,
	    .misses = now->misses - base->misses,
	    .miss_ns = now->miss_ns - base->miss_ns,
	    .cost_ns = now->cost_ns - base->cost_ns,
	};
}

uint64_t lm_adaptive_typical(const uint32_t *samples, unsigned n)
{
	if (n < LM_ADAPT_SAMPLES / 2 || n > LM_ADAPT_SAMPLES)
		return 0;
	uint32_t v[LM_ADAPT_SAMPLES];
	memcpy(v, samples, n * sizeof *v);
	for (unsigned i = 1; i < n; i++) { /* insertion sort: 32 at most */
		uint32_t x = v[i];
		unsigned j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	unsigned keep = n - n / 8;
	uint64_t sum = 0;
	for (unsigned i = 0; i < keep; i++)
		sum += v[i];
	return sum / keep;
}

void lm_adaptive_sample(struct lm_rt_method *m, uint64_t ns)
{
	if (!m->adaptive)
		return;
	uint32_t at = __atomic_fetch_add(&m->call_samples, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&m->call_ns[at % LM_ADAPT_SAMPLES],
	                 ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns, __ATOMIC_RELAXED);
}

void lm_adaptive_after_miss(struct lm_rt_method *m)
{
	if (!m->adaptive || m->verify ||
	    (__atomic_add_fetch(&m->adapt_misses, 1, __ATOMIC_RELAXED) % LM_ADAPT_MIN_MISSES) != 0)
		return;
	if (pthread_mutex_trylock(&lock) != 0)
		return;
	struct lm_adaptive_window now = now_window(m), w = since(&now, &m->adapt_base);
	w.min_call_ns = __atomic_load_n(&m->min_call_ns, __ATOMIC_RELAXED);
	uint32_t samples[LM_ADAPT_SAMPLES] = {0};
	uint32_t n = __atomic_load_n(&m->call_samples, __ATOMIC_RELAXED);
	n = n < LM_ADAPT_SAMPLES ? n : LM_ADAPT_SAMPLES;
	for (uint32_t i = 0; i < n; i++)
		samples[i] = __atomic_load_n(&m->call_ns[i], __ATOMIC_RELAXED);
	w.typical_call_ns = lm_adaptive_typical(samples, n);
	uint64_t hit_ns = __atomic_load_n(&m->min_lookup_ns, __ATOMIC_RELAXED);
	enum lm_adaptive_verdict v = hit_ns ? lm_adaptive_judge(&w, hit_ns) : LM_ADAPT_WAIT;
	if (!m->bypassing && (v == LM_ADAPT_CHEAP || v == LM_ADAPT_NO_PAY)) {
		char why[256];
		if (lm_hook_set_bypass(m->hook, true, why, sizeof why) == 0) {
			__atomic_store_n(&m->bypassing, 1, __ATOMIC_RELEASE);
			m->recheck_period_ms =
			    m->recheck_period_ms ? m->recheck_period_ms * 2 : RECHECK_FIRST_MS;
			if (m->recheck_period_ms > RECHECK_MAX_MS)
				m->recheck_period_ms = RECHECK_MAX_MS;
			m->recheck_ms = lm_clock_ms() + m->recheck_period_ms;
			if (m->recheck_ms < next_check_ms)
				__atomic_store_n(&next_check_ms, m->recheck_ms, __ATOMIC_RELAXED);
			lm_info("%s: not cached for now (adaptive): %s (%.0f ns a call, %.0f ns a "
			        "lookup, %llu hits, %llu misses); calls go straight to the "
			        "function; sampled again in %lld s",
			        m->cfg->name, lm_adaptive_why(v),
			        (double)w.miss_ns / (double)w.misses, (double)hit_ns,
			        (unsigned long long)w.hits, (unsigned long long)w.misses,
			        (long long)(m->recheck_period_ms / 1000));
		} else {
			m->adaptive = false; /* it cannot step aside: never ask again */
			lm_info("%s: caching does not pay (%s), but the hook cannot step aside: %s",
			        m->cfg->name, lm_adaptive_why(v), why);
		}
	} else if (v == LM_ADAPT_KEEP && m->recheck_period_ms) {
		m->recheck_period_ms = 0; /* a sample that pays: back to normal */
		lm_info("%s: cached again (adaptive): caching pays in this phase", m->cfg->name);
	}
	pthread_mutex_unlock(&lock);
}

void lm_adaptive_tick(void)
{
	if (__builtin_expect(
	        lm_clock_rough_ms() < __atomic_load_n(&next_check_ms, __ATOMIC_RELAXED), 1))
		return;
	if (pthread_mutex_trylock(&lock) != 0)
		return;
	int64_t now = lm_clock_ms(), next = INT64_MAX;
	for (uint32_t i = 0; i < lm_rt->nmethods; i++) {
		struct lm_rt_method *m = &lm_rt->methods[i];
		if (!m->bypassing)
			continue;
		if (m->recheck_ms > now) {
			next = m->recheck_ms < next ? m->recheck_ms : next;
			continue;
		}
		char why[256];
		m->adapt_base = now_window(m);
		m->adapt_misses = 0;
		if (lm_hook_set_bypass(m->hook, false, why, sizeof why) == 0) {
			__atomic_store_n(&m->bypassing, 0, __ATOMIC_RELEASE);
			lm_debug("%s: hooked again for a sample (adaptive)", m->cfg->name);
		} else {
			m->recheck_ms = now + RECHECK_MAX_MS;
			next = m->recheck_ms < next ? m->recheck_ms : next;
		}
	}
	__atomic_store_n(&next_check_ms, next, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&lock);
}

uint64_t lm_adaptive_bypassed(const struct lm_rt_method *m)
{
	return m->hook ? lm_hook_bypassed_calls(m->hook) - m->bypass_base : 0;
}

void lm_adaptive_reset_counts(void)
{
	for (uint32_t i = 0; lm_rt && i < lm_rt->nmethods; i++) {
		struct lm_rt_method *m = &lm_rt->methods[i];
		m->bypass_base = m->hook ? lm_hook_bypassed_calls(m->hook) : 0;
	}
}

void lm_adaptive_hold(void)
{
	pthread_mutex_lock(&lock);
}

void lm_adaptive_release(void)
{
	pthread_mutex_unlock(&lock);
}

void lm_adaptive_forget(struct lm_rt_method *m, uint64_t bypassed)
{
	if (bypassed)
		lm_count(m->id, LM_C_bypassed, bypassed); /* the released hook's count */
	m->bypass_base = 0;
	__atomic_store_n(&m->bypassing, 0, __ATOMIC_RELEASE);
	m->recheck_period_ms = 0;
	m->recheck_ms = 0;
	m->adapt_misses = 0;
	m->adapt_base = now_window(m);
}
