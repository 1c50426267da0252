/* Start-up: read the environment (spec section 2), parse the config,
 * build one runtime record per method, hook them. Fails open: every
 * problem is reported once and the affected method runs unhooked, unless
 * LDMEMO_STRICT=1 asks for exit status 125. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "config/defaults.h"
#include "shim/ops/control.h"
#include "shim/call/counters.h"
#include "shim/call/dispatch.h"
#include "shim/call/fast.h"
#include "shim/base/log.h"
#include "shim/ops/persist.h"
#include "shim/call/runtime.h"
#include "shim/call/sig_guard.h"
#include "shim/ops/stats_dump.h"
#include "shim/profile/profile.h"
#include "shim/base/trust.h"
#include "shim/base/clock.h"
#include "shim/base/decimal.h"
#include "shim/base/guard.h"
#include "shim/hook/hook.h"
#include "resolve.h"
#include "symtab/symtab.h"

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static bool env_is_1(const char *name)
{
	const char *v = env(name);
	return v && strcmp(v, "1") == 0;
}

static void report_diags(const struct lm_config *cfg, const struct lm_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		char buf[1024];
		lm_diag_format(cfg, &d->v[i], buf, sizeof buf);
		lm_log(d->v[i].warning ? LM_LOG_WARN : LM_LOG_ERROR, "%s", buf);
	}
}

static const char *program_base_name(void)
{
	extern char *program_invocation_short_name;
	return program_invocation_short_name;
}

/* Effective per-method settings: the method's own, then [global], then
 * the environment's LDMEMO_MODE. */
static int build_methods(struct lm_runtime *rt, bool verify_all)
{
	rt->nmethods = (uint32_t)rt->cfg.nmethods;
	rt->methods = calloc(rt->nmethods ? rt->nmethods : 1, sizeof *rt->methods);
	if (!rt->methods)
		return -1;
	int problems = 0;
	for (uint32_t i = 0; i < rt->nmethods; i++) {
		struct lm_rt_method *m = &rt->methods[i];
		const struct lm_method *cm = &rt->cfg.methods[i];
		m->cfg = cm;
		m->id = i;
		m->ttl_ms = lm_method_ttl_ms(&rt->cfg, cm);
		m->negative_ttl_ms = cm->negative_ttl_ms;
		/* max_entries = 0 stores nothing, in a method as in [global]: its
		 * calls run as with ttl = 0 (the store's own 0 is "no bound of its
		 * own"). */
		if (cm->max_entries_set && cm->max_entries == 0)
			m->ttl_ms = m->negative_ttl_ms = 0;
		m->stale_ms = cm->stale_if_error_ms;
		m->coalesce = lm_method_coalesce(&rt->cfg, cm);
		m->adaptive = lm_method_adaptive(&rt->cfg, cm);
		m->verify = !cm->invalidator && (verify_all || cm->mode == LM_MODE_VERIFY);
		if (cm->broken) {
			m->state = LM_HS_CONFIG_ERROR;
			continue;
		}
		char why[256];
		m->plan = lm_plan_compile(&rt->cfg, cm, i, why, sizeof why);
		m->scalar = m->plan ? lm_plan_scalar(m->plan) : LM_SCALAR_NO;
		m->reuse = m->plan && !m->verify && lm_plan_static_result(m->plan);
		if (m->reuse)
			m->qword = lm_plan_quick_word(m->plan);
		m->arg_checks = m->plan && lm_plan_has_pointer_args(m->plan) ? LM_ARG_CHECKS : 0;
		if (!m->plan) {
			char at[LM_WHERE_MAX];
			lm_warn("%s%s: not hooked: %s",
			        lm_method_where(&rt->cfg, cm, at, sizeof at), cm->name, why);
			m->state = LM_HS_FAILED;
			problems++;
		}
	}
	return problems;
}

/* Write functions' drop targets, compiled against the targets' plans. */
static int build_drops(struct lm_runtime *rt)
{
	int problems = 0;
	for (uint32_t i = 0; i < rt->nmethods; i++) {
		struct lm_rt_method *m = &rt->methods[i];
		if (!m->cfg->invalidator || !m->plan)
			continue;
		m->drops = calloc(m->cfg->ndrops ? m->cfg->ndrops : 1, sizeof *m->drops);
		if (!m->drops)
			return problems + 1;
		for (size_t j = 0; j < m->cfg->ndrops; j++) {
			const struct lm_drop *d = &m->cfg->drops[j];
			struct lm_rt_drop *rd = &m->drops[m->ndrops];
			rd->kind = d->kind;
			rd->target = d->kind == LM_DROP_ALL ? 0 : (uint32_t)d->method;
			if (d->kind == LM_DROP_KEY) {
				const struct lm_plan *tp = rt->methods[d->method].plan;
				char why[256] = "the target is not hooked";
				rd->dp = tp ? lm_drop_plan_compile(m->plan, tp, d, why, sizeof why)
				            : NULL;
				if (!rd->dp) {
					/* Dropping the whole method is always correct. */
					lm_warn("%s: drop of %s by key: %s; dropping the whole "
					        "method instead",
					        m->cfg->name, rt->cfg.methods[d->method].name, why);
					rd->kind = LM_DROP_METHOD;
				}
			}
			m->ndrops++;
		}
	}
	return problems;
}

/* A start-up that stops before the runtime is published gives back what
 * it built. */
static void free_runtime(struct lm_runtime *rt)
{
	for (uint32_t i = 0; rt->methods && i < rt->nmethods; i++) {
		struct lm_rt_method *m = &rt->methods[i];
		for (size_t j = 0; j < m->ndrops; j++)
			lm_drop_plan_free(m->drops[j].dp);
		free(m->drops);
		lm_plan_free(m->plan);
	}
	free(rt->methods);
	lm_config_free(&rt->cfg);
	free(rt);
}

static struct lm_store *make_store(const struct lm_runtime *rt)
{
	uint64_t *bounds = calloc(rt->nmethods ? rt->nmethods : 1, sizeof *bounds);
	if (!bounds)
		return NULL;
	for (uint32_t i = 0; i < rt->nmethods; i++)
		bounds[i] = rt->cfg.methods[i].max_entries;
	struct lm_store_cfg sc = {
	    .max_entries = rt->cfg.global.max_entries,
	    .max_memory = rt->cfg.global.max_memory,
	    .nmethods = rt->nmethods,
	    .method_max_entries = bounds,
	};
	struct lm_store *s = lm_store_new(&sc);
	free(bounds);
	return s;
}

/* ---- The shared tier ------------------------------------------------------ */

/* Another process changed an entry: only the local copy goes (the change
 * came from the shared tier, so it must not be sent back there). */
static void drop_local(void *arg, uint32_t method, const void *key, uint32_t klen)
{
	struct lm_runtime *rt = arg;
	if (method == LM_L2_ALL)
		lm_store_drop_all(rt->store);
	else if (!key)
		lm_store_drop_method(rt->store, method);
	else
		lm_store_drop_key(rt->store, method, lm_key_hash(key, klen), key, klen);
	/* the host tier's copies go too: its processes were told the same */
	if (!rt->host)
		return;
	if (method == LM_L2_ALL)
		lm_host_drop_all(rt->host);
	else if (rt->methods[method].host && !key)
		lm_host_drop_method(rt->host, &rt->methods[method].hm);
	else if (rt->methods[method].host)
		lm_host_drop_key(rt->host, &rt->methods[method].hm, lm_key_hash(key, klen), key,
		                 klen);
}

/* The backend's own thread never runs a hooked function cached. */
static void backend_thread_init(void)
{
	lm_guard_own_thread();
}

/* Guarantee 10: a backend that stops answering is said once, and its
 * return once; the calls meanwhile run against L1 and the function. */
static void backend_report(const char *server, const char *why)
{
	if (why)
		lm_warn("%s: %s: the shared tier is skipped (calls counted as bypassed) until it "
		        "answers again",
		        server, why);
	else
		lm_warn("%s answers again: the shared tier is used", server);
}

static void open_shared_tier(struct lm_runtime *rt)
{
	if (rt->cfg.global.backend.kind == LM_BACKEND_LOCAL)
		return;
	rt->l2_methods = calloc(rt->nmethods ? rt->nmethods : 1, sizeof *rt->l2_methods);
	if (!rt->l2_methods)
		return;
	for (uint32_t i = 0; i < rt->nmethods; i++) {
		struct lm_rt_method *m = &rt->methods[i];
		bool shared = m->plan && !m->cfg->invalidator && !lm_plan_local_only(m->plan);
		rt->l2_methods[i] = (struct lm_l2_method){
		    .name = m->cfg->name,
		    .fingerprint = m->plan ? lm_plan_fingerprint(m->plan) : 0,
		    .shared = shared,
		};
	}
	const struct lm_global *g = &rt->cfg.global;
	rt->tier_servers =
	    calloc(g->backend.nhosts ? g->backend.nhosts : 1, sizeof *rt->tier_servers);
	if (!rt->tier_servers)
		return;
	bool redis = g->backend.kind == LM_BACKEND_REDIS;
	for (size_t i = 0; i < g->backend.nhosts; i++) {
		int port = g->backend.hosts[i].port;
		rt->tier_servers[i] = (struct lm_tier_server){
		    .host = g->backend.hosts[i].host,
		    .port = port    ? port
		            : redis ? LM_DEFAULT_REDIS_PORT
		                    : LM_DEFAULT_MEMCACHED_PORT,
		};
	}
	struct lm_l2_params p = {
	    .settings =
	        {
	            .version = LM_TIER_SETTINGS_VERSION,
	            .size = sizeof(struct lm_tier_settings),
	            .kind = redis ? LM_TIER_REDIS : LM_TIER_MEMCACHED,
	            .url = g->backend.url,
	            .password = g->backend.password,
	            .unix_path = g->backend.unix_path,
	            .db = g->backend.db,
	            .servers = rt->tier_servers,
	            .nservers = g->backend.nhosts,
	            .timeout_ms = g->redis_timeout_ms,
	            .l1_ttl_ms = g->l1_ttl_ms,
	            .max_entries = g->max_entries,
	            .max_memory = g->max_memory,
	        },
	    .namespace_ =
	        rt->cfg.global.namespace_ ? rt->cfg.global.namespace_ : program_base_name(),
	    .methods = rt->l2_methods,
	    .nmethods = rt->nmethods,
	    .invalidate = drop_local,
	    .arg = rt,
	    .thread_init = backend_thread_init,
	    .report = backend_report,
	};
	char why[256] = "";
	rt->l2 = lm_l2_open(&p, why, sizeof why);
	if (!rt->l2) {
		lm_warn("%s: the shared tier is not used: %s", rt->cfg.global.backend.url, why);
		return;
	}
	for (uint32_t i = 0; i < rt->nmethods; i++)
		rt->methods[i].shared = rt->l2_methods[i].shared;
}

/* fork: the shim's atfork handlers (the store's locks every shard) run with
 * the thread marked inside the shim, so a signal handler that calls a
 * hooked function meanwhile runs it uncached instead of waiting for a lock
 * its own thread holds. Registered after every other handler of the shim:
 * prepare handlers run in reverse order of registration, the others in
 * order, so these enclose them all (see start). */

/* ---- The host tier (spec 11) ---------------------------------------------- */

static void open_host_tier(struct lm_runtime *rt)
{
	if (!rt->cfg.global.shared_host)
		return;
	const char *ns =
	    rt->cfg.global.namespace_ ? rt->cfg.global.namespace_ : program_base_name();
	char why[768] = "", note[768] = "";
	rt->host = lm_host_open(NULL, ns, rt->cfg.global.shared_memory, why, sizeof why, note,
	                        sizeof note);
	if (note[0])
		lm_warn("host tier: %s", note);
	if (!rt->host) {
		lm_warn("host tier: %s; methods run with their per-process cache only", why);
		return;
	}
	for (uint32_t i = 0; i < rt->nmethods; i++) {
		struct lm_rt_method *m = &rt->methods[i];
		/* ptr parameters and results mean nothing in another process */
		if (!m->plan || m->cfg->invalidator || m->verify || lm_plan_local_only(m->plan))
			continue;
		m->host = true;
		lm_host_method_init(&m->hm, m->cfg->name, lm_plan_fingerprint(m->plan));
		m->host_seen = lm_host_l1gen_now(rt->host, &m->hm);
	}
}

static void strict_exit(const char *why)
{
	lm_error("LDMEMO_STRICT=1: %s; exiting with status %d", why, LM_EXIT_STRICT);
	_exit(LM_EXIT_STRICT);
}

/* The config opened once and judged by what was opened (trust.h), to be
 * parsed from that descriptor; -1 when it cannot be opened (the parser
 * says why), -2 when it is refused (said here). Apart from start: its
 * message buffer's stack pages are touched only while it runs. */
static __attribute__((noinline)) int open_config(const char *path, bool strict)
{
	char why[PATH_MAX + 128];
	int cfd = lm_trust_open(path, "config", why, sizeof why);
	if (cfd < 0 && why[0]) {
		lm_error("%s", why);
		if (strict)
			strict_exit("the config is not trusted");
		return -2;
	}
	return cfd;
}

static void start(void)
{
	const char *path = env(LM_ENV_CONFIG);
	const char *profile = env(LM_ENV_PROFILE);
	if (profile && !env_is_1(LM_ENV_DISABLE)) {
		/* `ldmemo profile`: count, cache nothing (spec 10). */
		int fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
		if (fd >= 0)
			lm_log_set_fd(fd);
		lm_profile_start(profile, env(LM_ENV_PROFILE_PROTOS),
		                 env(LM_ENV_PROFILE_FUNCTIONS));
		return;
	}
	if (!path || env_is_1(LM_ENV_DISABLE))
		return;
	/* Read before it is set for what this process exec's or starts. */
	bool inherited = env(LM_ENV_INHERITED) != NULL;
	/* putenv of a static string: setenv would copy it and record the
	 * copy with tsearch, a page of libc more to fault in. */
	static char inherited_var[sizeof LM_ENV_INHERITED + LM_DECIMAL_MAX] = LM_ENV_INHERITED "=";
	lm_decimal(inherited_var + sizeof LM_ENV_INHERITED, (uint64_t)getpid());
	putenv(inherited_var);
	/* A private copy of stderr: the program may close fd 2 (spec 2). */
	int fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
	if (fd >= 0)
		lm_log_set_fd(fd);
	const char *lv = env(LM_ENV_LOG);
	if (lv) {
		int l = lm_log_parse_level(lv);
		if (l >= 0)
			lm_log_level = (enum lm_log_level)l;
		else
			lm_warn("%s=%s: not a level (quiet, error, warn, info, debug)", LM_ENV_LOG,
			        lv);
	}
	bool strict = env_is_1(LM_ENV_STRICT);
	const char *mode = env(LM_ENV_MODE);
	if (mode && strcmp(mode, "verify") != 0)
		lm_warn("%s=%s: the only mode is 'verify'", LM_ENV_MODE, mode);

	int cfd = open_config(path, strict);
	if (cfd == -2)
		return;

	struct lm_runtime *rt = calloc(1, sizeof *rt);
	if (!rt) {
		if (cfd >= 0)
			close(cfd);
		return;
	}
	rt->start_ns = lm_now_ns();
	rt->strict = strict;
	rt->inherited = inherited;
	struct lm_diags diags = {0};
	int errors = cfd >= 0 ? lm_config_load_fd(cfd, path, &rt->cfg, &diags)
	                      : lm_config_load(path, &rt->cfg, &diags);
	/* A process the config is not for (a wrapper's helpers) stays silent
	 * at the default level: its problems are those of every process. */
	if (errors >= 0 && !lm_programs_match(&rt->cfg.global, program_base_name())) {
		lm_info("%s: not in programs: inactive", program_base_name());
		lm_diags_free(&diags);
		free_runtime(rt);
		return;
	}
	report_diags(&rt->cfg, &diags);
	lm_diags_free(&diags);
	if (errors != 0 && strict)
		strict_exit("the config has errors");
	if (errors < 0) {
		free_runtime(rt);
		return;
	}
	int problems = build_methods(rt, mode && strcmp(mode, "verify") == 0);
	if (problems < 0) {
		lm_error("out of memory: inactive");
		free_runtime(rt);
		return;
	}
	problems += build_drops(rt);
	lm_counters_init(rt->nmethods);
	lm_fast_init();
	rt->store = make_store(rt);
	if (!rt->store) {
		lm_error("cannot allocate the cache: inactive");
		if (strict)
			strict_exit("cannot allocate the cache");
		free_runtime(rt);
		return;
	}
	/* read here, not earlier: a process the config is not for went
	 * inactive without a readlink */
	rt->program = lm_self_exe();
	if (!rt->program)
		rt->program = "";
	lm_stats_setup(rt);
	lm_persist_load(rt);
	open_host_tier(rt);
	open_shared_tier(rt);
	lm_rt = rt;
	/* Bypassed methods come back through their own calls too. */
	lm_hook_set_tick(lm_dispatch_tick);
	problems += lm_resolve_all(true);
	if (strict && (problems > 0 || errors > 0))
		strict_exit("some methods cannot be hooked");
	lm_control_setup(rt);
	pthread_atfork(lm_guard_enter, lm_guard_leave, lm_guard_leave);
}

__attribute__((constructor)) static void lm_init(void)
{
	/* Secure-execution mode: ignore every LDMEMO_* variable (spec 2). */
	if (getauxval(AT_SECURE))
		return;
	LM_KEEP_ERRNO();
	lm_guard_enter();
	start();
	lm_guard_leave();
}
