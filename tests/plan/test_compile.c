/* lm_plan_compile: what a plan accepts, and its fingerprint and
 * local-only facts. */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"
#include "shim/plan/plan_internal.h"

static struct lm_plan *try_compile(const struct lm_config *cfg, struct lm_ret ret,
                                   struct lm_param *ps, size_t n, char *why, size_t wl)
{
	struct lm_method m = {0};

	m.name = m.sig.name = (char *)"f";
	m.sig.ret = ret;
	m.sig.params = ps;
	m.sig.nparams = n;
	return lm_plan_compile(cfg, &m, 0, why, wl);
}

Test(compile, rejects_what_cannot_be_served)
{
	struct lm_param bad_size[] = {lp_size(LM_K_BUF, LM_SZ_PARAM, 0, 1), lp(LM_K_STR)};
	struct lm_param out_type_ptrs[] = {lp_size(LM_K_OUT, LM_SZ_TYPE, 0, T_PASSWD)};
	struct lm_param out_ret[] = {lp_size(LM_K_OUT, LM_SZ_RET, 0, 0)};
	struct lm_param strv[] = {lp(LM_K_STRV)};
	struct lm_param one[] = {lp(LM_K_I32)};
	char why[200];

	why[0] = 0;
	cr_assert_null(try_compile(test_config(), rv(LM_K_I32), bad_size, 2, why, sizeof(why)));
	cr_assert_neq(why[0], 0);
	cr_assert_null(
	    try_compile(test_config(), rv(LM_K_I32), out_type_ptrs, 1, why, sizeof(why)));
	cr_assert_null(
	    try_compile(test_config(), rhow(LM_RET_STR, 0, 0, 0), out_ret, 1, why, sizeof(why)),
	    "out(ret) needs an integer return");
	cr_assert_null(try_compile(test_config(), rv(LM_K_I32), strv, 1, why, sizeof(why)));
	cr_assert_null(
	    try_compile(test_config(), rhow(LM_RET_PARAM, 0, 0, 0), one, 1, why, sizeof(why)),
	    "ptr(NAME) of an integer");
	cr_assert_null(try_compile(test_config(), rhow(LM_RET_STATIC_TYPE, 0, 0, 99), one, 1, why,
	                           sizeof(why)));
}

Test(compile, rejects_a_type_containing_itself)
{
	struct lm_field f[] = {{.name = "self", .kind = LM_K_STRUCT, .type = 0, .offset = 0}};
	struct lm_type ty = {.name = "loop", .fields = f, .nfields = 1, .size = 8, .align = 8};
	struct lm_config cfg = {.types = &ty, .ntypes = 1};
	struct lm_param one[] = {lp(LM_K_I32)};
	char why[200] = "";

	cr_assert_null(
	    try_compile(&cfg, rhow(LM_RET_STATIC_TYPE, 0, 0, 0), one, 1, why, sizeof(why)));
	cr_assert(strstr(why, "contains itself"), "%s", why);
}

Test(compile, rejects_a_field_outside_its_type)
{
	struct lm_field f[] = {{.name = "x", .kind = LM_K_I64, .offset = 4}};
	struct lm_type ty = {.name = "short", .fields = f, .nfields = 1, .size = 8, .align = 8};
	struct lm_config cfg = {.types = &ty, .ntypes = 1};
	struct lm_param one[] = {lp(LM_K_I32)};
	char why[200] = "";

	cr_assert_null(
	    try_compile(&cfg, rhow(LM_RET_STATIC_TYPE, 0, 0, 0), one, 1, why, sizeof(why)));
	cr_assert_neq(why[0], 0);
}

Test(compile, local_only)
{
	struct lm_plan *a = PLAN("a", rv(LM_K_I32), lp(LM_K_PTR));
	struct lm_plan *b = PLAN("b", rv(LM_K_PTR), lp(LM_K_I32));
	struct lm_plan *c =
	    PLAN("c", rhow(LM_RET_PARAM, 0, 0, 0), lp_size(LM_K_OUT, LM_SZ_LIT, 4, 0));
	struct lm_plan *d = PLAN("d", rv(LM_K_I32), lp(LM_K_STR), lp(LM_K_IGNORE),
	                         lp_size(LM_K_BUF, LM_SZ_LIT, 4, 0));
	struct lm_plan *e = PLAN("e", rhow(LM_RET_STATIC_TYPE, 0, 0, T_TM), lp(LM_K_I32));
	struct lm_plan *g = PLAN("g", rhow(LM_RET_STATIC_TYPE, 0, 0, T_OUTER), lp(LM_K_I32));

	cr_assert(lm_plan_local_only(a));
	cr_assert(lm_plan_local_only(b));
	cr_assert(lm_plan_local_only(c));
	cr_assert_not(lm_plan_local_only(d), "str, ignore and buf are content");
	cr_assert(lm_plan_local_only(e), "tm has a ptr field");
	cr_assert_not(lm_plan_local_only(g), "str, strv and TYPE* are deep-copied");
	lm_plan_free(a);
	lm_plan_free(b);
	lm_plan_free(c);
	lm_plan_free(d);
	lm_plan_free(e);
	lm_plan_free(g);
}

Test(compile, fingerprint_follows_signature_and_layout)
{
	struct lm_plan *a = PLAN("f", rv(LM_K_I32), lp(LM_K_I32), lp(LM_K_STR));
	struct lm_plan *b = PLAN("f", rv(LM_K_I32), lp(LM_K_I32), lp(LM_K_STR));
	struct lm_plan *c = PLAN("f", rv(LM_K_I32), lp(LM_K_I64), lp(LM_K_STR));
	struct lm_plan *d = PLAN("f", rv(LM_K_U32), lp(LM_K_I32), lp(LM_K_STR));
	struct lm_field f1[] = {{.name = "x", .kind = LM_K_I32, .offset = 0}};
	struct lm_field f2[] = {{.name = "x", .kind = LM_K_I32, .offset = 4}};
	struct lm_type t1 = {.name = "t", .fields = f1, .nfields = 1, .size = 8, .align = 4};
	struct lm_type t2 = {.name = "t", .fields = f2, .nfields = 1, .size = 8, .align = 4};
	struct lm_config c1 = {.types = &t1, .ntypes = 1}, c2 = {.types = &t2, .ntypes = 1};
	struct lm_param one[] = {lp(LM_K_I32)};
	struct lm_plan *e, *g;
	char why[200];

	cr_assert_eq(lm_plan_fingerprint(a), lm_plan_fingerprint(b));
	cr_assert_neq(lm_plan_fingerprint(a), lm_plan_fingerprint(c));
	cr_assert_neq(lm_plan_fingerprint(a), lm_plan_fingerprint(d));
	e = try_compile(&c1, rhow(LM_RET_STATIC_TYPE, 0, 0, 0), one, 1, why, sizeof(why));
	g = try_compile(&c2, rhow(LM_RET_STATIC_TYPE, 0, 0, 0), one, 1, why, sizeof(why));
	cr_assert(e && g);
	cr_assert_neq(lm_plan_fingerprint(e), lm_plan_fingerprint(g), "field offsets count");
	lm_plan_free(a);
	lm_plan_free(b);
	lm_plan_free(c);
	lm_plan_free(d);
	lm_plan_free(e);
	lm_plan_free(g);
}

/* A plan holds the types its result reaches, not every type of the config:
 * with a copy of all of them, 16k sections cost start-up O(n^2) (issue 16). */
Test(compile, copies_only_the_types_a_result_reaches)
{
	struct lm_param one[] = {lp(LM_K_I32)};
	char why[200] = "";
	struct lm_plan *p;

	p = try_compile(test_config(), rhow(LM_RET_STATIC_TYPE, 0, 0, T_OUTER), one, 1, why,
	                sizeof(why));
	cr_assert_not_null(p, "%s", why);
	cr_assert_eq(p->ntypes, 2, "outer and the inner it holds, got %zu", p->ntypes);
	cr_assert_eq(p->ret.type, 0);
	cr_assert_eq(p->types[0].size, test_config()->types[T_OUTER].size);
	cr_assert_eq(p->types[1].size, test_config()->types[T_INNER].size);
	lm_plan_free(p);

	p = try_compile(test_config(), rhow(LM_RET_STATIC_TYPE, 0, 0, T_NODE), one, 1, why,
	                sizeof(why));
	cr_assert_not_null(p, "%s", why);
	cr_assert_eq(p->ntypes, 1, "a list reaches itself only, got %zu", p->ntypes);
	lm_plan_free(p);

	p = try_compile(test_config(), rv(LM_K_I32), one, 1, why, sizeof(why));
	cr_assert_not_null(p, "%s", why);
	cr_assert_eq(p->ntypes, 0);
	lm_plan_free(p);
}
