#include "stats_snapshot.h"

#include <unistd.h>

#include "../config/defaults.h"
#include "counters.h"
#include "runtime.h"

static char program[4096];

void lm_snapshot_setup(void)
{
	ssize_t n = readlink("/proc/self/exe", program, sizeof program - 1);
	program[n > 0 ? n : 0] = '\0';
}

static const char *hook_name(enum lm_hook_state s)
{
	static const char *const names[] = {"unresolved", "failed", "detour", "got"};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unresolved";
}

static const char *backend_name(const struct lm_runtime *rt)
{
	static const char *const names[] = {"local", "redis", "memcached"};
	unsigned k = (unsigned)rt->cfg.global.backend.kind;
	return k < sizeof names / sizeof names[0] ? names[k] : "local";
}

static void collect_method(const struct lm_runtime *rt, uint32_t id, struct lm_snap_method *out)
{
	const struct lm_rt_method *m = &rt->methods[id];
	struct lm_store_mstats st;
	lm_store_method_stats(rt->store, id, &st);
	uint64_t *v = out->v;
	out->name = m->cfg->name;
	out->object = m->object ? m->object : "";
	out->hook = hook_name(m->state);
	out->mode = m->verify ? "verify" : "cache";
	v[LM_SF_hits] = lm_counters_sum(id, LM_C_hits);
	v[LM_SF_misses] = lm_counters_sum(id, LM_C_misses);
	v[LM_SF_bypassed] = lm_counters_sum(id, LM_C_bypassed);
	/* Every call of a cached method ends as exactly one of these: the hit
	 * path saves a counter by not keeping calls apart. */
	v[LM_SF_calls] = v[LM_SF_hits] + v[LM_SF_misses] + v[LM_SF_bypassed];
	v[LM_SF_stored] = lm_counters_sum(id, LM_C_stored);
	v[LM_SF_stale] = lm_counters_sum(id, LM_C_stale);
	v[LM_SF_mismatches] = lm_counters_sum(id, LM_C_mismatches);
	v[LM_SF_uncacheable] = lm_counters_sum(id, LM_C_uncacheable);
	v[LM_SF_coalesced] = lm_counters_sum(id, LM_C_coalesced);
	v[LM_SF_expired] = st.expired;
	v[LM_SF_evicted] = st.evicted;
	v[LM_SF_invalidated] = st.invalidated;
	v[LM_SF_entries] = st.entries;
	v[LM_SF_bytes] = st.bytes;
	v[LM_SF_miss_ns] = lm_counters_sum(id, LM_C_miss_ns);
	uint64_t misses = v[LM_SF_misses];
	v[LM_SF_saved_ns] =
	    misses ? (uint64_t)((unsigned __int128)v[LM_SF_hits] * v[LM_SF_miss_ns] / misses) : 0;
}

void lm_snapshot_collect(const struct lm_runtime *rt, struct lm_snapshot *s,
                         struct lm_snap_method *methods, struct lm_snap_writer *writers)
{
	if (!program[0])
		lm_snapshot_setup();
	int64_t up = lm_now_ns() - rt->start_ns;
	*s = (struct lm_snapshot){
	    .version = LDMEMO_VERSION,
	    .program = program,
	    .backend = backend_name(rt),
	    .pid = (uint64_t)getpid(),
	    .uptime_ms = up > 0 ? (uint64_t)up / 1000000 : 0,
	    .methods = methods,
	    .writers = writers,
	};
	lm_store_totals(rt->store, &s->entries, &s->bytes);
	for (uint32_t id = 0; id < rt->nmethods; id++) {
		const struct lm_rt_method *m = &rt->methods[id];
		if (!m->cfg->invalidator) {
			collect_method(rt, id, &methods[s->nmethods++]);
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
}
