/* The spec's example config (sections 3 and 3.6) as a fixture file. */
#include "helpers.h"

#define FIXTURE "tests/config/fixtures/spec_example.conf"

Test(example, parses_without_diagnostics_into_the_right_structures)
{
	struct lm_config cfg;
	struct lm_diags d = {0};
	int rc = lm_config_load(FIXTURE, &cfg, &d);

	for (size_t i = 0; i < d.n; i++)
		cr_log_error("%d:%d: %s", d.v[i].pos.line, d.v[i].pos.col, d.v[i].msg);
	cr_assert_eq(rc, 0);
	cr_assert_eq(d.n, 0);
	cr_expect_str_eq(cfg.file, FIXTURE);

	const struct lm_global *g = &cfg.global;
	cr_expect_eq(g->ttl_ms, 5 * 60 * 1000);
	cr_expect_eq(g->max_entries, 1000000);
	cr_expect_eq(g->max_memory, 256u << 20);
	cr_expect_eq(g->backend.kind, LM_BACKEND_LOCAL);
	cr_expect_str_eq(g->namespace_, "userdb");
	cr_assert_eq(g->nprograms, 2);
	cr_expect_str_eq(g->programs[0], "app");
	cr_expect_str_eq(g->programs[1], "app-*");
	cr_expect_eq(g->hook, LM_HOOK_AUTO);
	cr_expect(g->coalesce);

	cr_assert_eq(cfg.nmethods, 6);
	cr_assert_eq(cfg.ntypes, 3);

	int gu = lm_config_find_method(&cfg, "get_user");
	cr_assert_geq(gu, 0);
	const struct lm_method *m = &cfg.methods[gu];
	cr_expect_eq(m->sig.ret.kind, LM_K_I32);
	cr_assert_eq(m->sig.nparams, 2);
	cr_expect_eq(m->sig.params[0].kind, LM_K_I64);
	cr_expect_eq(m->sig.params[1].kind, LM_K_OUT);
	cr_expect_eq(m->sig.params[1].size.lit, 64);
	cr_assert_not_null(m->when);
	cr_expect_eq(m->when->cmp, LM_CMP_EQ);
	cr_expect_eq(m->when->ival, 0);
	cr_expect_eq(m->negative_ttl_ms, 2000);
	cr_expect_eq(m->ttl_ms, 600000);
	cr_expect_str_eq(m->object, "libuserdb.so");

	m = &cfg.methods[lm_config_find_method(&cfg, "user_name")];
	cr_expect_eq(m->sig.ret.how, LM_RET_STR);
	cr_expect_eq(lm_method_ttl_ms(&cfg, m), 5 * 60 * 1000);

	m = &cfg.methods[lm_config_find_method(&cfg, "crypt")];
	cr_expect_eq(m->sig.ret.how, LM_RET_STATIC_STR);
	cr_expect_eq(m->sig.nparams, 2);

	m = &cfg.methods[lm_config_find_method(&cfg, "update_user")];
	cr_expect(m->invalidator);
	cr_assert_eq(m->ndrops, 3);
	cr_expect_eq(m->drops[0].kind, LM_DROP_KEY);
	cr_expect_eq(m->drops[0].method, gu);
	cr_expect_eq(m->drops[0].vals[0].param, 0);
	cr_expect_eq(m->drops[1].method, lm_config_find_method(&cfg, "user_name"));
	cr_expect_eq(m->drops[2].kind, LM_DROP_METHOD);
	cr_expect_eq(m->drops[2].method, lm_config_find_method(&cfg, "list_dept"));

	m = &cfg.methods[lm_config_find_method(&cfg, "getpwuid")];
	cr_expect_eq(m->sig.ret.how, LM_RET_STATIC_TYPE);
	cr_expect_eq(m->sig.ret.type, lm_config_find_type(&cfg, "passwd"));
	cr_expect_eq(m->sig.params[0].kind, LM_K_U32);
	cr_expect_eq(m->when->lit, LM_LIT_NULL);
	cr_expect_eq(m->negative_ttl_ms, 30000);

	cr_expect_eq(cfg.types[lm_config_find_type(&cfg, "passwd")].size, 48);
	cr_expect_eq(cfg.types[lm_config_find_type(&cfg, "group")].size, 32);
	cr_expect_eq(cfg.types[lm_config_find_type(&cfg, "tm")].size, 56);

	for (size_t i = 0; i < cfg.nmethods; i++)
		cr_expect_not(cfg.methods[i].broken, "%s", cfg.methods[i].name);
	lm_config_free(&cfg);
	lm_diags_free(&d);
}
