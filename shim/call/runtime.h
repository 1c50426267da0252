/* The shim's state after start-up: the parsed config, one record per
 * configured method, the store. Built once by init.c (and grown when a
 * library loaded later brings methods); read by the dispatcher. */
#ifndef LM_RUNTIME_H
#define LM_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "shim/hook/hook.h"
#include "shim/host/host.h"
#include "shim/tier/l2.h"
#include "shim/plan/plan.h"
#include "shim/base/guard.h"
#include "shim/store/store.h"
#include "adaptive.h"

/* What became of a method's hook, as the statistics name it. */
/* CONFIG_ERROR: the method's section has errors; it is never looked for.
 * UNLOADED: its object was closed (dlclose); hooked again if it comes back. */
enum lm_hook_state {
	LM_HS_UNRESOLVED,
	LM_HS_FAILED,
	LM_HS_DETOUR,
	LM_HS_GOT,
	LM_HS_CONFIG_ERROR,
	LM_HS_UNLOADED
};

struct lm_rt_drop {
	enum lm_drop_kind kind;
	uint32_t target;         /* method id */
	struct lm_drop_plan *dp; /* LM_DROP_KEY */
};

struct lm_rt_method {
	const struct lm_method *cfg;
	uint32_t id;
	struct lm_plan *plan;
	struct lm_hook *hook;
	enum lm_hook_state state;
	char *object; /* path of the object the definition lives in */
	uintptr_t addr;
	/* effective settings, [global] and the environment applied */
	int64_t ttl_ms, negative_ttl_ms, stale_ms;
	bool coalesce, verify;
	bool shared;              /* also in the shared tier (L2) */
	bool host;                /* also in the host tier (spec 11) */
	struct lm_host_method hm; /* its place in the host tier */
	uint64_t host_seen;       /* the host tier's l1gen our L1 was last emptied at */
	enum lm_scalar scalar;    /* lm_plan_scalar: the hit path's inline replay */
	bool fast;                /* entered through a fast thunk (fast.h) */
	bool reuse;               /* a static result whose hits reuse the built buffer (reuse.h) */
	struct lm_qword qword;    /* its key as one word, for the quick path (quick.c) */
	struct lm_rt_drop *drops; /* write functions */
	uint32_t ndrops;
	uint32_t mismatch_logged;
	uint64_t last_ptr; /* sig_guard.c: the last `ptr` result and its key */
	bool ptr_static;   /* a `ptr` result was seen to be a reused buffer: bypassed */
	/* The fastest call and the fastest lookup seen on a miss: what a hit
	 * saves and costs at least, for an estimate of `saved` that never
	 * counts a cold first call as what every hit saved. 0: none yet. */
	uint64_t min_call_ns, min_lookup_ns;
	uint32_t arg_checks; /* calls whose pointer arguments are still checked */
	/* adaptive.c: may step aside; does now; its window and next sample */
	bool adaptive;
	int bypassing;
	uint64_t adapt_misses;
	struct lm_adaptive_window adapt_base;
	int64_t recheck_ms, recheck_period_ms;
	uint64_t bypass_base;               /* the hook's counting-stub count at the last reset */
	uint32_t call_ns[LM_ADAPT_SAMPLES]; /* recent timed calls, a ring */
	uint32_t call_samples;              /* written so far */
	bool bad_args; /* one was no pointer: the signature is wrong, bypassed */
};

struct lm_runtime {
	struct lm_config cfg;
	struct lm_rt_method *methods; /* indexed by id = index in cfg.methods */
	uint32_t nmethods;
	struct lm_store *store;
	struct lm_l2 *l2;                    /* NULL: local backend (or it could not be set up) */
	struct lm_l2_method *l2_methods;     /* what l2 was opened with; lives as long */
	struct lm_tier_server *tier_servers; /* likewise */
	struct lm_host *host;                /* NULL: shared = off (or the mapping was refused) */
	bool strict;
	bool inherited; /* an earlier image of this process or a parent ran the shim */
	int64_t start_ns;
	/* The program's path, read at start-up (a statistics dump may come
	 * from a signal handler); "" when unreadable. */
	const char *program;
};

/* The counter copies of M's entries outside the store (front cache, fast
 * table) are checked against: with the host tier, drops by any process of
 * the host move it. */
static inline const uint64_t *lm_rt_copy_epoch(const struct lm_runtime *rt,
                                               const struct lm_rt_method *m)
{
	return m->host ? lm_host_l1gen(rt->host, &m->hm) : lm_store_copy_epoch(rt->store, m->id);
}

/* NULL while the shim is inactive. Set once, at the end of start-up. */
extern struct lm_runtime *lm_rt;

#endif
