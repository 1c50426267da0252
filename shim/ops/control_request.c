/* One request of the control protocol (see control.c), parsed and carried
 * out against the running shim. The reply goes to an in-memory file, so
 * nothing here waits on the client. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "shim/call/runtime.h"
#include "stats_dump.h"
#include "shim/call/invalidate.h"

static void put(int out, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t k = write(out, s, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

static void reply(int out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reply(int out, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	put(out, buf, (size_t)n);
}

/* ---- tokens ------------------------------------------------------------- */

struct tok {
	const char *s; /* into the line */
	size_t len;
};

/* Split LINE at blanks; a "string" is one token, blanks and all. Returns
 * the number of tokens, or -1 when there are more than MAX or a string is
 * not closed. */
static int split(const char *line, struct tok *t, int max)
{
	int n = 0;
	const char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return n;
		if (n == max)
			return -1;
		const char *start = p;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p != '"')
				return -1;
			p++;
		} else {
			while (*p && *p != ' ' && *p != '\t')
				p++;
		}
		t[n].s = start;
		t[n++].len = (size_t)(p - start);
	}
}

static bool tok_is(const struct tok *t, const char *word)
{
	return t->len == strlen(word) && memcmp(t->s, word, t->len) == 0;
}

/* ---- invalidate --------------------------------------------------------- */

struct exact_ctx {
	uint32_t id;
	size_t dropped;
};

static void drop_exact(const void *key, uint32_t klen, void *arg)
{
	struct exact_ctx *c = arg;
	c->dropped += lm_invalidate_key(c->id, key, klen);
}

struct match_ctx {
	const struct lm_drop_plan *dp;
	const void *pattern;
	size_t plen;
};

static bool match(const void *key, uint32_t klen, void *arg)
{
	const struct match_ctx *c = arg;
	return lm_drop_plan_matches(c->dp, c->pattern, c->plen, key, klen);
}

/* Drop the entries of method ID whose key parameters equal VALS. */
static void drop_values(int out, uint32_t id, struct lm_dropval *vals, size_t nvals)
{
	const struct lm_rt_method *m = &lm_rt->methods[id];
	const struct lm_sig *sig = &m->cfg->sig;
	if (!m->plan) {
		reply(out, "error %s is not hooked: its signature cannot be served", m->cfg->name);
		return;
	}
	size_t nkey = 0;
	for (size_t i = 0; i < sig->nparams; i++)
		nkey += lm_param_is_drop_key(&sig->params[i]);
	if (nkey != nvals) {
		reply(out, "error %s has %zu key parameter%s, %zu value%s given", m->cfg->name,
		      nkey, nkey == 1 ? "" : "s", nvals, nvals == 1 ? "" : "s");
		return;
	}
	for (size_t i = 0, k = 0; i < sig->nparams; i++) {
		if (!lm_param_is_drop_key(&sig->params[i]))
			continue;
		if (!lm_dropval_fits(&vals[k++], sig->params[i].kind)) {
			reply(out, "error %s value cannot match key parameter %zu of %s (%s)",
			      lm_dropval_class(vals[k - 1].kind), k, m->cfg->name,
			      lm_kind_class(sig->params[i].kind));
			return;
		}
	}
	struct lm_drop d = {.kind = LM_DROP_KEY, .method = (int)id, .vals = vals, .nvals = nvals};
	char why[256] = "out of memory";
	/* Literals only: no writer, so no writer plan and no writer frame. */
	struct lm_drop_plan *dp = lm_drop_plan_compile(NULL, m->plan, &d, why, sizeof why);
	if (!dp) {
		reply(out, "error %s", why);
		return;
	}
	struct lm_buf pattern = {0};
	struct exact_ctx ec = {.id = id};
	int rc = lm_drop_plan_keys(dp, NULL, drop_exact, &ec, &pattern);
	if (rc == 0) {
		struct match_ctx mc = {dp, pattern.p, pattern.len};
		ec.dropped = lm_invalidate_match(id, match, &mc);
	}
	lm_buf_free(&pattern);
	lm_drop_plan_free(dp);
	if (rc < 0)
		reply(out, "error out of memory");
	else
		reply(out, "ok %zu", ec.dropped);
}

#define LM_CTL_MAX_TOKENS 64

static void invalidate(int out, const struct tok *t, int n)
{
	if (n == 2 && tok_is(&t[1], "--all")) {
		reply(out, "ok %zu", lm_invalidate_all());
		return;
	}
	if (n < 2) {
		reply(out, "error usage: invalidate METHOD [VALUE...] | invalidate --all");
		return;
	}
	char name[256];
	if (t[1].len >= sizeof name || t[1].s[0] == '"') {
		reply(out, "error bad method name");
		return;
	}
	memcpy(name, t[1].s, t[1].len);
	name[t[1].len] = '\0';
	int id = lm_config_find_method(&lm_rt->cfg, name);
	if (id < 0) {
		reply(out, "error no method '%s' in %s", name, lm_rt->cfg.file);
		return;
	}
	if (lm_rt->cfg.methods[id].invalidator) {
		reply(out, "error %s is a write function, not a cached method", name);
		return;
	}
	if (n == 2) {
		reply(out, "ok %zu", lm_invalidate_method((uint32_t)id));
		return;
	}
	struct lm_dropval vals[LM_CTL_MAX_TOKENS] = {0};
	size_t nvals = 0;
	for (int i = 2; i < n; i++, nvals++) {
		char why[160];
		if (lm_dropval_parse(t[i].s, t[i].len, &vals[nvals], why, sizeof why) < 0) {
			reply(out, "error value %d: %s", i - 1, why);
			break;
		}
	}
	if (nvals == (size_t)(n - 2))
		drop_values(out, (uint32_t)id, vals, nvals);
	for (int i = 0; i < n - 2; i++)
		free(vals[i].sval);
}

static void stats(int out, const struct tok *t, int n)
{
	enum lm_stats_format f = LM_FMT_TEXT;
	char name[16] = "";
	if (n > 2 || (n == 2 && t[1].len >= sizeof name)) {
		reply(out, "error usage: stats [text|json|prom]");
		return;
	}
	if (n == 2) {
		memcpy(name, t[1].s, t[1].len);
		name[t[1].len] = '\0';
		if (lm_parse_stats_format(name, &f) != 0) {
			reply(out, "error unknown format '%s' (text, json, prom)", name);
			return;
		}
	}
	reply(out, "ok");
	lm_stats_write(out, f);
}

/* keys METHOD [LIMIT]: see control_keys.c. */
static void keys(int out, const struct tok *t, int n)
{
	char name[256], num[24];
	unsigned long long limit = 0;
	if (n < 2 || n > 3 || t[1].len >= sizeof name || t[1].s[0] == '"') {
		reply(out, "error usage: keys METHOD [LIMIT]");
		return;
	}
	memcpy(name, t[1].s, t[1].len);
	name[t[1].len] = '\0';
	if (n == 3) {
		char *end;
		if (t[2].len >= sizeof num) {
			reply(out, "error usage: keys METHOD [LIMIT]");
			return;
		}
		memcpy(num, t[2].s, t[2].len);
		num[t[2].len] = '\0';
		limit = strtoull(num, &end, 10);
		if (*end || end == num) {
			reply(out, "error LIMIT must be a number");
			return;
		}
	}
	int id = lm_config_find_method(&lm_rt->cfg, name);
	if (id < 0 || lm_rt->cfg.methods[id].invalidator) {
		reply(out, "error no cached method '%s' in %s", name, lm_rt->cfg.file);
		return;
	}
	lm_control_keys(out, (uint32_t)id, (size_t)limit);
}

void lm_control_answer(const char *line, int out)
{
	struct tok t[LM_CTL_MAX_TOKENS];
	int n = split(line, t, LM_CTL_MAX_TOKENS);
	if (n < 0)
		reply(out, "error too many values, or a string not closed");
	else if (n == 0)
		reply(out, "error empty request");
	else if (tok_is(&t[0], "stats"))
		stats(out, t, n);
	else if (tok_is(&t[0], "invalidate"))
		invalidate(out, t, n);
	else if (tok_is(&t[0], "keys"))
		keys(out, t, n);
	else
		reply(out, "error unknown request '%.*s' (stats, invalidate, keys)",
		      (int)(t[0].len > 32 ? 32 : t[0].len), t[0].s);
}
