#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "shim/plan/plan.h"
#include "targets.h"

static const char head[] = "[cache get]\n"
                           "signature = int get(i64 id, str name, out(16) o)\n"
                           "[cache calc]\n"
                           "signature = double calc(long x, double y, str s, u8 b)\n"
                           "[cache other]\n"
                           "signature = str other(void)\n"
                           "[invalidate put]\n"
                           "signature = int put(i64 id, str name, double d, u16 n)\n"
                           "when = ";

/* Copy N bytes of S into D with every line break made a space, so that the
 * text stays the value of its key. */
static char *flat(char *d, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		d[i] = s[i] == '\n' || s[i] == '\r' ? ' ' : (char)s[i];
	return d + n;
}

static void key_cb(const void *key, uint32_t klen, void *arg)
{
	(void)key;
	*(uint32_t *)arg += klen;
}

/* Apply every drop of the write function to one call of it. */
static void apply_drops(const struct lm_config *cfg, const struct lm_method *w,
                        struct lm_plan **plans)
{
	const struct lm_plan *wp = plans[w - cfg->methods];
	static const char name[] = "bob";
	struct lm_frame f = {.gpr = {7, (uint64_t)(uintptr_t)name, 0, 3}};
	double d = 2.5;
	memcpy(&f.xmm[0][0], &d, sizeof d);
	for (size_t i = 0; i < w->ndrops && wp; i++) {
		const struct lm_drop *dr = &w->drops[i];
		const struct lm_plan *tp = dr->kind == LM_DROP_ALL ? NULL : plans[dr->method];
		if (dr->kind != LM_DROP_ALL && !tp)
			continue;
		char why[256];
		struct lm_drop_plan *dp = lm_drop_plan_compile(wp, tp, dr, why, sizeof why);
		if (!dp)
			continue;
		struct lm_buf pat = {0};
		uint32_t total = 0;
		if (lm_drop_plan_keys(dp, &f, key_cb, &total, &pat) == 0) {
			static const unsigned char key[24] = {7};
			lm_drop_plan_matches(dp, pat.p, pat.len, key, sizeof key);
		}
		lm_buf_free(&pat);
		lm_drop_plan_free(dp);
	}
}

int lm_fuzz_rules(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t wlen = nl ? (size_t)(nl - data) : size;
	size_t dlen = nl ? size - wlen - 1 : 0;
	char *text = malloc(sizeof head + wlen + dlen + 16);
	if (!text)
		return 0;
	char *p = text;
	memcpy(p, head, sizeof head - 1);
	p = flat(p + sizeof head - 1, data, wlen);
	memcpy(p, "\ndrop = ", 8);
	p = flat(p + 8, nl ? nl + 1 : data, dlen);
	*p++ = '\n';

	struct lm_config cfg = {0}, again = {0};
	/* Parsing depends on the text alone: twice, the same methods. */
	int rc = lm_fuzz_parse(text, (size_t)(p - text), &cfg);
	int bad =
	    rc != lm_fuzz_parse(text, (size_t)(p - text), &again) || cfg.nmethods != again.nmethods;
	lm_config_free(&again);
	if (rc == 0) {
		struct lm_plan **plans = calloc(cfg.nmethods + 1, sizeof *plans);
		for (size_t i = 0; plans && i < cfg.nmethods; i++) {
			char why[256];
			if (!cfg.methods[i].broken)
				plans[i] = lm_plan_compile(&cfg, &cfg.methods[i], (uint32_t)i, why,
				                           sizeof why);
			struct lm_frame f = {.ret_rax = 0xffffffff};
			if (plans[i])
				lm_plan_when(plans[i], &f, 2);
		}
		for (size_t i = 0; plans && i < cfg.nmethods; i++)
			if (cfg.methods[i].invalidator && !cfg.methods[i].broken)
				apply_drops(&cfg, &cfg.methods[i], plans);
		for (size_t i = 0; plans && i < cfg.nmethods; i++)
			lm_plan_free(plans[i]);
		free(plans);
	}
	lm_config_free(&cfg);
	free(text);
	return bad ? -1 : 0;
}
