/* Lookups and the effective per-method settings ([global] applied). */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "parse_internal.h"

int lm_find_type_n(const struct lm_config *cfg, const char *s, size_t n)
{
	if (cfg->type_names.cap)
		return lm_names_find(&cfg->type_names, s, n);
	for (size_t i = 0; i < cfg->ntypes; i++) {
		const char *t = cfg->types[i].name;
		if (t && strlen(t) == n && memcmp(t, s, n) == 0)
			return (int)i;
	}
	return -1;
}

int lm_find_method_n(const struct lm_config *cfg, const char *s, size_t n)
{
	if (cfg->method_names.cap)
		return lm_names_find(&cfg->method_names, s, n);
	for (size_t i = 0; i < cfg->nmethods; i++) {
		const char *t = cfg->methods[i].name;
		if (t && strlen(t) == n && memcmp(t, s, n) == 0)
			return (int)i;
	}
	return -1;
}

int lm_config_find_method(const struct lm_config *cfg, const char *name)
{
	return name ? lm_find_method_n(cfg, name, strlen(name)) : -1;
}

int lm_config_find_type(const struct lm_config *cfg, const char *name)
{
	return name ? lm_find_type_n(cfg, name, strlen(name)) : -1;
}

int64_t lm_method_ttl_ms(const struct lm_config *cfg, const struct lm_method *m)
{
	return m->ttl_ms == LM_DUR_UNSET ? cfg->global.ttl_ms : m->ttl_ms;
}

bool lm_method_coalesce(const struct lm_config *cfg, const struct lm_method *m)
{
	return m->coalesce == LM_UNSET ? cfg->global.coalesce : m->coalesce == LM_ON;
}

bool lm_method_adaptive(const struct lm_config *cfg, const struct lm_method *m)
{
	return m->adaptive == LM_UNSET ? cfg->global.adaptive : m->adaptive == LM_ON;
}

enum lm_hook_kind lm_method_hook(const struct lm_config *cfg, const struct lm_method *m)
{
	return m->hook_set ? m->hook : cfg->global.hook;
}

const char *lm_method_where(const struct lm_config *cfg, const struct lm_method *m, char *buf,
                            size_t len)
{
	if (!len)
		return buf;
	buf[0] = 0;
	if (cfg->file && m->pos.line > 0)
		snprintf(buf, len, "%s:%d: ", cfg->file, m->pos.line);
	return buf;
}

bool lm_programs_match(const struct lm_global *g, const char *base_name)
{
	if (!g->programs)
		return true;
	if (!base_name)
		return false;
	for (size_t i = 0; i < g->nprograms; i++)
		if (fnmatch(g->programs[i], base_name, 0) == 0)
			return true;
	return false;
}
