/* Releasing everything a parse allocated. */
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

static void sig_free(struct lm_sig *s)
{
	free(s->name);
	for (size_t i = 0; i < s->nparams; i++)
		free(s->params[i].name);
	free(s->params);
}

static void method_free(struct lm_method *m)
{
	free(m->name);
	free(m->version);
	sig_free(&m->sig);
	lm_expr_free(m->when);
	free(m->object);
	for (size_t i = 0; i < m->ndrops; i++) {
		for (size_t j = 0; j < m->drops[i].nvals; j++)
			free(m->drops[i].vals[j].sval);
		free(m->drops[i].vals);
	}
	free(m->drops);
}

void lm_config_free(struct lm_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->file);
	lm_backend_free(&cfg->global.backend);
	free(cfg->global.namespace_);
	for (size_t i = 0; i < cfg->global.nprograms; i++)
		free(cfg->global.programs[i]);
	free(cfg->global.programs);
	free(cfg->global.persist);
	free(cfg->global.stats);
	for (size_t i = 0; i < cfg->ntypes; i++) {
		free(cfg->types[i].name);
		for (size_t j = 0; j < cfg->types[i].nfields; j++)
			free(cfg->types[i].fields[j].name);
		free(cfg->types[i].fields);
	}
	free(cfg->types);
	for (size_t i = 0; i < cfg->nmethods; i++)
		method_free(&cfg->methods[i]);
	free(cfg->methods);
	lm_names_free(&cfg->type_names);
	lm_names_free(&cfg->method_names);
	memset(cfg, 0, sizeof(*cfg));
}
