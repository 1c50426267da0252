#include <stdlib.h>

#include "config/config.h"
#include "shim/plan/plan.h"
#include "targets.h"

int lm_fuzz_parse(const char *text, size_t len, struct lm_config *cfg)
{
	struct lm_diags diags = {0};
	int rc = lm_config_parse(text, len, "fuzz.conf", cfg, &diags);
	/* Every message must format, whatever position it carries. */
	for (size_t i = 0; i < diags.n; i++) {
		char buf[256];
		lm_diag_format(cfg, &diags.v[i], buf, sizeof buf);
	}
	lm_diags_free(&diags);
	return rc < 0 ? -1 : 0;
}

int lm_fuzz_config(const uint8_t *data, size_t size)
{
	struct lm_config cfg = {0}, again = {0};
	/* Parsing depends on the text alone: twice, the same methods. */
	int rc = lm_fuzz_parse((const char *)data, size, &cfg);
	int bad =
	    rc != lm_fuzz_parse((const char *)data, size, &again) || cfg.nmethods != again.nmethods;
	for (size_t i = 0; !bad && i < cfg.nmethods; i++)
		bad = cfg.methods[i].broken != again.methods[i].broken;
	lm_config_free(&again);
	if (rc == 0) {
		for (size_t i = 0; i < cfg.nmethods; i++) {
			if (cfg.methods[i].broken)
				continue;
			char why[256];
			struct lm_plan *p =
			    lm_plan_compile(&cfg, &cfg.methods[i], (uint32_t)i, why, sizeof why);
			lm_plan_free(p);
		}
	}
	lm_config_free(&cfg);
	return bad ? -1 : 0;
}
