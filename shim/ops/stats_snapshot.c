#include "stats_snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/defaults.h"
#include "shim/call/adaptive.h"
#include "shim/call/counters.h"
#include "shim/call/runtime.h"
#include "shim/base/clock.h"
#include "shim/host/host.h"

static const char *hook_name(enum lm_hook_state s)
{
	static const char *const names[] = {"unresolved", "failed",       "detour",
	                                    "got",        "config_error", "unloaded"};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unresolved";
}

static const char *backend_name(const struct lm_runtime *rt)
{
	static const char *const names[] = {"local", "redis", "memcached"};
	unsigned k = (unsigned)rt->cfg.global.backend.kind;
	return k < sizeof names / sizeof names[0] ? names[k] : "local";
}

/* Spec 5: what the hits saved, less what ldmemo spent on the misses;
 * negative when caching costs more than it saves; never more than the
 * run's wall time; 0 in verify mode (the function ran every time). A hit
 * is taken to save the fastest call seen and to cost the fastest lookup
 * seen: the mean would count a cold first call (lazy binding, page
 * faults) as what every hit saved. */
static int64_t saved_ns(const struct lm_rt_method *m, const uint64_t *v, int64_t up_ns)
{
	uint64_t call = __atomic_load_n(&m->min_call_ns, __ATOMIC_RELAXED);
	uint64_t lookup = __atomic_load_n(&m->min_lookup_ns, __ATOMIC_RELAXED);
	if (m->verify || !call)
		return 0;
	double net = (double)v[LM_SF_hits] * ((double)call - (double)lookup) -
	             (double)lm_counters_sum(m->id, LM_C_cost_ns);
	if (net > (double)up_ns)
		return up_ns;
	if (net < -(double)up_ns)
		return -up_ns;
	return (int64_t)net;
}

static void collect_method(const struct lm_runtime *rt, uint32_t id, struct lm_snap_method *out,
                           int64_t up_ns)
{
	const struct lm_rt_method *m = &rt->methods[id];
	struct lm_store_mstats st;
	lm_store_method_stats(rt->store, id, &st);
	uint64_t *v = out->v;
	out->name = m->cfg->name;
	out->object = m->object ? m->object : "";
	out->hook = hook_name(m->state);
	out->mode = m->verify                                          ? "verify"
	            : __atomic_load_n(&m->bypassing, __ATOMIC_RELAXED) ? "bypass"
	                                                               : "cache";
	v[LM_SF_hits] = lm_counters_sum(id, LM_C_hits);
	v[LM_SF_misses] = lm_counters_sum(id, LM_C_misses);
	v[LM_SF_bypassed] = lm_counters_sum(id, LM_C_bypassed) + lm_adaptive_bypassed(m);
	/* Every call of a cached method ends as exactly one of these: the hit
	 * path saves a counter by not keeping calls apart. */
	v[LM_SF_calls] = v[LM_SF_hits] + v[LM_SF_misses] + v[LM_SF_bypassed];
	v[LM_SF_stored] = lm_counters_sum(id, LM_C_stored);
	v[LM_SF_negative] = lm_counters_sum(id, LM_C_negative);
	v[LM_SF_stale] = lm_counters_sum(id, LM_C_stale);
	v[LM_SF_mismatches] = lm_counters_sum(id, LM_C_mismatches);
	v[LM_SF_uncacheable] = lm_counters_sum(id, LM_C_uncacheable);
	v[LM_SF_coalesced] = lm_counters_sum(id, LM_C_coalesced);
	v[LM_SF_shared_hits] = lm_counters_sum(id, LM_C_shared_hits);
	v[LM_SF_expired] = st.expired;
	v[LM_SF_evicted] = st.evicted;
	v[LM_SF_invalidated] = st.invalidated;
	v[LM_SF_entries] = st.entries;
	v[LM_SF_bytes] = st.bytes;
	v[LM_SF_miss_ns] = lm_counters_sum(id, LM_C_miss_ns);
	v[LM_SF_saved_ns] = (uint64_t)saved_ns(m, v, up_ns);
}

/* The methods' savings together never exceed the run's wall time either:
 * each is an estimate from its own misses, and a cold miss overstates it. */
static void cap_saved(struct lm_snapshot *s, int64_t up_ns)
{
	double sum = 0;
	for (size_t i = 0; i < s->nmethods; i++)
		if ((int64_t)s->methods[i].v[LM_SF_saved_ns] > 0)
			sum += (double)s->methods[i].v[LM_SF_saved_ns];
	if (sum <= (double)up_ns)
		return;
	for (size_t i = 0; i < s->nmethods; i++) {
		uint64_t *v = &s->methods[i].v[LM_SF_saved_ns];
		if ((int64_t)*v > 0)
			*v = (uint64_t)((double)*v * (double)up_ns / sum);
	}
}

void lm_snapshot_collect(const struct lm_runtime *rt, struct lm_snapshot *s,
                         struct lm_snap_method *methods, struct lm_snap_writer *writers)
{
	int64_t up = lm_now_ns() - rt->start_ns;
	*s = (struct lm_snapshot){
	    .version = LDMEMO_VERSION,
	    .program = rt->program,
	    .backend = backend_name(rt),
	    .pid = (uint64_t)getpid(),
	    .uptime_ms = up > 0 ? (uint64_t)up / 1000000 : 0,
	    .methods = methods,
	    .writers = writers,
	};
	lm_store_totals(rt->store, &s->entries, &s->bytes);
	if (rt->host) {
		struct lm_host_stats hs;
		lm_host_stats(rt->host, &hs);
		s->host = true;
		s->host_size = hs.size;
		s->host_entries = hs.entries;
		s->host_evictions = hs.evictions;
	}
	for (uint32_t id = 0; id < rt->nmethods; id++) {
		const struct lm_rt_method *m = &rt->methods[id];
		if (!m->cfg->invalidator) {
			collect_method(rt, id, &methods[s->nmethods++], up > 0 ? up : 0);
			continue;
		}
		writers[s->nwriters++] = (struct lm_snap_writer){
		    .name = m->cfg->name,
		    .object = m->object ? m->object : "",
		    .hook = hook_name(m->state),
		    .calls = lm_counters_sum(id, LM_C_calls),
		    .dropped = lm_counters_sum(id, LM_C_dropped),
		};
	}
	cap_saved(s, up > 0 ? up : 0);
}
