/* [global] (spec 3.1): defaults, and each key's value read into
 * struct lm_global. */
#include <stdlib.h>
#include <string.h>

#include "defaults.h"
#include "parse_internal.h"

void lm_global_defaults(struct lm_global *g)
{
	memset(g, 0, sizeof(*g));
	g->ttl_ms = LM_DEFAULT_TTL_MS;
	g->max_entries = LM_DEFAULT_MAX_ENTRIES;
	g->max_memory = LM_DEFAULT_MAX_MEMORY;
	g->backend.kind = LM_BACKEND_LOCAL;
	g->l1_ttl_ms = LM_DEFAULT_L1_TTL_MS;
	g->redis_timeout_ms = LM_DEFAULT_REDIS_TIMEOUT_MS;
	g->hook = LM_HOOK_AUTO;
	g->coalesce = true;
	g->adaptive = true;
	g->stats_format = LM_FMT_TEXT;
	g->shared_memory = LM_DEFAULT_SHARED_MEMORY;
}

static void programs(struct lm_ctx *c, const struct lm_kv *kv, struct lm_global *g)
{
	size_t n = 1, k = 0;
	const char *p = kv->val, *end = kv->val + kv->vlen;
	char **v;

	for (const char *q = p; q < end; q++)
		n += *q == ',';
	v = lm_calloc(c, n + 1, sizeof(*v));
	if (!v)
		return;
	while (p <= end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end, *s = p;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		struct lm_pos pos = {kv->vpos.line, kv->vpos.col + (int)(s - kv->val)};
		if (s == e) {
			lm_diag_error(c, pos, "empty program name in 'programs'");
		} else if (memchr(s, '/', (size_t)(e - s)) || memchr(s, ' ', (size_t)(e - s))) {
			lm_diag_error(c, pos, "'" LM_QFMT "' is not a base-name glob",
			              LM_QARG(s, (size_t)(e - s)));
		} else {
			v[k] = lm_strndup(c, s, (size_t)(e - s));
			if (v[k])
				k++;
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	g->programs = v;
	g->nprograms = k;
}

static void shared_keys(struct lm_ctx *c, const struct lm_kv *k, struct lm_global *g)
{
	char *v;
	if (k[LM_KEY_SHARED].present) {
		v = lm_value_str(c, &k[LM_KEY_SHARED]);
		if (v && strcmp(v, "host") == 0)
			g->shared_host = true;
		else if (v && strcmp(v, "off") != 0)
			lm_value_bad(c, &k[LM_KEY_SHARED], "shared", " (use off or host)");
		free(v);
	}
	if (!k[LM_KEY_SHARED_MEMORY].present)
		return;
	v = lm_value_str(c, &k[LM_KEY_SHARED_MEMORY]);
	uint64_t n = 0;
	if (v && lm_parse_size(v, &n) < 0)
		lm_value_bad(c, &k[LM_KEY_SHARED_MEMORY], "size",
		             " (use a number with B, KiB, MiB or GiB)");
	else if (v && (n < LM_SHARED_MEMORY_MIN || n > LM_SHARED_MEMORY_MAX))
		lm_diag_error(c, k[LM_KEY_SHARED_MEMORY].vpos,
		              "shared_memory must be between 1MiB and 64GiB, not '%s'", v);
	else if (v)
		g->shared_memory = n;
	if (v && !g->shared_host)
		lm_diag_warn(c, k[LM_KEY_SHARED_MEMORY].kpos,
		             "shared_memory has no effect without 'shared = host'");
	free(v);
}

void lm_global_apply(struct lm_ctx *c, struct lm_rsec *s)
{
	struct lm_global *g = &c->cfg->global;
	const struct lm_kv *k = s->keys;
	char *v;

	g->pos = s->pos;
	if (k[LM_KEY_TTL].present)
		lm_value_duration(c, &k[LM_KEY_TTL], &g->ttl_ms);
	if (k[LM_KEY_MAX_ENTRIES].present)
		lm_value_count(c, &k[LM_KEY_MAX_ENTRIES], &g->max_entries);
	if (k[LM_KEY_MAX_MEMORY].present) {
		v = lm_value_str(c, &k[LM_KEY_MAX_MEMORY]);
		if (v && lm_parse_size(v, &g->max_memory) < 0)
			lm_value_bad(c, &k[LM_KEY_MAX_MEMORY], "size",
			             " (use a number with B, KiB, MiB or GiB)");
		free(v);
	}
	if (k[LM_KEY_BACKEND].present) {
		v = lm_value_str(c, &k[LM_KEY_BACKEND]);
		if (v && lm_parse_backend(v, &g->backend) < 0) {
			lm_value_bad(
			    c, &k[LM_KEY_BACKEND], "backend",
			    " (use local, redis://[:PASSWORD@]HOST[:PORT][/DB], unix:PATH or "
			    "memcached://HOST[:PORT],...)");
			g->backend.kind = LM_BACKEND_LOCAL;
		}
		free(v);
	}
	if (k[LM_KEY_NAMESPACE].present)
		g->namespace_ = lm_value_word(c, &k[LM_KEY_NAMESPACE], "namespace");
	if (k[LM_KEY_L1_TTL].present)
		lm_value_duration(c, &k[LM_KEY_L1_TTL], &g->l1_ttl_ms);
	if (k[LM_KEY_REDIS_TIMEOUT].present)
		lm_value_duration(c, &k[LM_KEY_REDIS_TIMEOUT], &g->redis_timeout_ms);
	if (k[LM_KEY_PROGRAMS].present)
		programs(c, &k[LM_KEY_PROGRAMS], g);
	if (k[LM_KEY_HOOK].present)
		lm_value_hook(c, &k[LM_KEY_HOOK], &g->hook);
	if (k[LM_KEY_COALESCE].present)
		lm_value_bool(c, &k[LM_KEY_COALESCE], &g->coalesce);
	if (k[LM_KEY_ADAPTIVE].present)
		lm_value_bool(c, &k[LM_KEY_ADAPTIVE], &g->adaptive);
	if (k[LM_KEY_PERSIST].present)
		g->persist = lm_value_str(c, &k[LM_KEY_PERSIST]);
	if (k[LM_KEY_CONTROL].present)
		lm_value_bool(c, &k[LM_KEY_CONTROL], &g->control);
	if (k[LM_KEY_STATS].present) {
		g->stats = lm_value_str(c, &k[LM_KEY_STATS]);
		if (g->stats && lm_parse_stats_dest(g->stats) < 0) {
			lm_value_bad(c, &k[LM_KEY_STATS], "statistics destination",
			             " (use stderr, fd:N or a path)");
			free(g->stats);
			g->stats = NULL;
		}
	}
	if (k[LM_KEY_STATS_FORMAT].present) {
		v = lm_value_str(c, &k[LM_KEY_STATS_FORMAT]);
		if (v && lm_parse_stats_format(v, &g->stats_format) < 0)
			lm_value_bad(c, &k[LM_KEY_STATS_FORMAT], "stats_format",
			             " (use text, json or prom)");
		else if (v)
			g->stats_format_set = true;
		free(v);
	}
	shared_keys(c, k, g);
	if (k[LM_KEY_STATS_SIGNAL].present) {
		v = lm_value_str(c, &k[LM_KEY_STATS_SIGNAL]);
		if (v && lm_parse_signal(v, &g->stats_signal) < 0)
			lm_value_bad(c, &k[LM_KEY_STATS_SIGNAL], "signal",
			             " (use a name like USR2 or SIGUSR2, or a number)");
		free(v);
	}
}
