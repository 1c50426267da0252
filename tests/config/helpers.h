/* Shared by the config suites: parse a text, and check the diagnostics. */
#ifndef LM_TEST_CONFIG_HELPERS_H
#define LM_TEST_CONFIG_HELPERS_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"

struct parsed {
	struct lm_config cfg;
	struct lm_diags d;
	int rc;
};

static inline void parse_text(struct parsed *p, const char *text)
{
	memset(p, 0, sizeof(*p));
	p->rc = lm_config_parse(text, strlen(text), "t.conf", &p->cfg, &p->d);
}

static inline void parsed_free(struct parsed *p)
{
	lm_config_free(&p->cfg);
	lm_diags_free(&p->d);
}

/* TEXT parses with no diagnostics at all. */
static inline void expect_clean(struct parsed *p, const char *text)
{
	parse_text(p, text);
	for (size_t i = 0; i < p->d.n; i++)
		cr_log_error("unexpected %d:%d: %s", p->d.v[i].pos.line, p->d.v[i].pos.col,
		             p->d.v[i].msg);
	cr_assert_eq(p->d.n, 0);
	cr_assert_eq(p->rc, 0);
}

/* TEXT yields exactly one error, at LINE:COL, saying MSG. */
static inline void expect_error(const char *text, int line, int col, const char *msg)
{
	struct parsed p;
	parse_text(&p, text);
	for (size_t i = 0; i < p.d.n; i++)
		cr_log_info("got %d:%d: %s", p.d.v[i].pos.line, p.d.v[i].pos.col, p.d.v[i].msg);
	cr_assert_eq(p.d.n, 1, "expected one diagnostic, got %zu", p.d.n);
	cr_expect_eq(p.rc, 1);
	cr_expect_not(p.d.v[0].warning);
	cr_expect_str_eq(p.d.v[0].msg, msg);
	cr_expect_eq(p.d.v[0].pos.line, line, "line %d, expected %d", p.d.v[0].pos.line, line);
	cr_expect_eq(p.d.v[0].pos.col, col, "col %d, expected %d", p.d.v[0].pos.col, col);
	parsed_free(&p);
}

#endif
