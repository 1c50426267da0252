/* `drop` (spec 3.5): targets, values and their checks. */
#include <stdio.h>

#include "helpers.h"

#define CACHES                                                                                 \
	"[cache get_user]\nsignature = int get_user(i64 id, out(64) user)\n"                   \
	"[cache by_name]\nsignature = int by_name(ignore ctx, str name, i32 dept, out(8) o)\n" \
	"[cache score]\nsignature = double score(f64 w, ptr p, buf(4) b)\n"

/* Config with the caches above and [invalidate w] (line 7, drop on line 9). */
static const struct lm_method *drop_of(struct parsed *p, const char *sig, const char *drop)
{
	char text[2048];
	snprintf(text, sizeof(text), CACHES "[invalidate w]\nsignature = %s\ndrop = %s\n", sig,
	         drop);
	expect_clean(p, text);
	return &p->cfg.methods[3];
}

static void drop_error(const char *sig, const char *drop, int col, const char *msg)
{
	char text[2048];
	snprintf(text, sizeof(text), CACHES "[invalidate w]\nsignature = %s\ndrop = %s\n", sig,
	         drop);
	expect_error(text, 9, col, msg);
}

Test(drop, all_method_and_key_forms)
{
	struct parsed p;
	const struct lm_method *w =
	    drop_of(&p, "int w(i64 id, str name, i32 d)",
	            "*, get_user, by_name(*), get_user(id), by_name(name, *)");
	cr_assert_eq(w->ndrops, 5);
	cr_expect_eq(w->drops[0].kind, LM_DROP_ALL);
	cr_expect_eq(w->drops[1].kind, LM_DROP_METHOD);
	cr_expect_eq(w->drops[1].method, lm_config_find_method(&p.cfg, "get_user"));
	cr_expect_eq(w->drops[2].kind, LM_DROP_METHOD);
	cr_expect_eq(w->drops[2].method, lm_config_find_method(&p.cfg, "by_name"));
	cr_expect_eq(w->drops[3].kind, LM_DROP_KEY);
	cr_assert_eq(w->drops[3].nvals, 1);
	cr_expect_eq(w->drops[3].vals[0].kind, LM_DV_PARAM);
	cr_expect_eq(w->drops[3].vals[0].param, 0);
	cr_assert_eq(w->drops[4].nvals, 2);
	cr_expect_eq(w->drops[4].vals[0].param, 1);
	cr_expect_eq(w->drops[4].vals[1].kind, LM_DV_ANY);
	cr_expect_eq(w->drops[3].pos.line, 9);
	cr_expect_eq(w->drops[3].pos.col, 33);
	parsed_free(&p);
}

Test(drop, literal_values)
{
	struct parsed p;
	const struct lm_method *w = drop_of(&p, "int w(void)",
	                                    "get_user(-42), by_name(\"a \\\"q\\\" #b\\\\\", 0x10), "
	                                    "score(1.5, 4096, *), score(2, *, *)");
	cr_assert_eq(w->ndrops, 4);
	cr_expect_eq(w->drops[0].vals[0].kind, LM_DV_INT);
	cr_expect_eq(w->drops[0].vals[0].ival, -42);
	cr_expect_eq(w->drops[1].vals[0].kind, LM_DV_STR);
	cr_expect_str_eq(w->drops[1].vals[0].sval, "a \"q\" #b\\");
	cr_expect_eq(w->drops[1].vals[1].ival, 16);
	cr_expect_eq(w->drops[2].vals[0].kind, LM_DV_FLOAT);
	cr_expect_float_eq(w->drops[2].vals[0].fval, 1.5, 1e-12);
	/* An address is an integer, as `ldmemo ctl invalidate` takes it. */
	cr_expect_eq(w->drops[2].vals[1].kind, LM_DV_INT);
	/* An integer given for a float key is read as a float. */
	cr_expect_eq(w->drops[3].vals[0].kind, LM_DV_FLOAT);
	cr_expect_float_eq(w->drops[3].vals[0].fval, 2.0, 1e-12);
	parsed_free(&p);
}

Test(drop, comparable_params)
{
	struct parsed p;
	const struct lm_method *w =
	    drop_of(&p, "int w(u32 uid, f32 x, ptr q, buf(4) k, str s, i8 d)",
	            "get_user(uid), score(x, q, k), by_name(s, d)");
	cr_expect_eq(w->ndrops, 3);
	parsed_free(&p);
}

Test(drop, target_may_be_defined_later)
{
	struct parsed p;
	expect_clean(&p, "[invalidate w]\nsignature = int w(int id)\ndrop = later(id)\n"
	                 "[cache later]\nsignature = int later(int id)\n");
	cr_expect_eq(p.cfg.methods[0].drops[0].method, 1);
	parsed_free(&p);
}

Test(drop, targets_must_be_cache_methods)
{
	drop_error("int w(void)", "nosuch", 8, "drop target 'nosuch' is not a [cache] section");
	drop_error("int w(void)", "get_user, w", 18,
	           "drop target 'w' is a write function, not a [cache] method");
}

Test(drop, count_must_match_key_params)
{
	drop_error("int w(i64 id)", "get_user(id, id)", 8,
	           "get_user has 1 key parameter, 2 values given");
	drop_error("int w(str n)", "by_name(n)", 8, "by_name has 2 key parameters, 1 value given");
	drop_error("int w(void)", "get_user()", 8, "get_user has 1 key parameter, 0 values given");
}

Test(drop, values_must_be_comparable)
{
	drop_error("int w(str id)", "get_user(id)", 17,
	           "str value cannot match key parameter 1 of get_user (integer)");
	drop_error("int w(void)", "get_user(\"x\")", 17,
	           "string value cannot match key parameter 1 of get_user (integer)");
	drop_error("int w(void)", "get_user(1.5)", 17,
	           "float value cannot match key parameter 1 of get_user (integer)");
	drop_error("int w(void)", "by_name(1, 2)", 16,
	           "integer value cannot match key parameter 1 of by_name (str)");
	drop_error("int w(i64 p)", "score(1.0, p, *)", 19,
	           "integer value cannot match key parameter 2 of score (ptr)");
	drop_error("int w(str s)", "score(1.0, *, s)", 22,
	           "str value cannot match key parameter 3 of score (buf)");
	/* A literal matches as the drop plan encodes it (and as `ldmemo ctl
	 * invalidate` takes it): a string only a str. */
	drop_error("int w(void)", "score(1.0, *, \"abcd\")", 22,
	           "string value cannot match key parameter 3 of score (buf)");
}

/* Out of range is said as such, never read as a float. */
Test(drop, integer_out_of_range)
{
	drop_error("int w(void)", "get_user(99999999999999999999999)", 17,
	           "integer '99999999999999999999999' out of range (64 bits)");
}

Test(drop, bad_values_and_syntax)
{
	drop_error("int w(i64 id)", "get_user(uid)", 17, "'uid' is not a parameter of w");
	drop_error("int w(void)", "by_name(\"abc, 1)", 16, "unterminated string");
	drop_error("int w(void)", "get_user(+)", 17,
	           "expected a parameter name, a number, a \"string\" or '*' in 'drop', got '+'");
	drop_error("int w(void)", "get_user(1 2)", 19, "expected ',' or ')' in 'drop', got '2'");
	drop_error("int w(void)", "get_user get_user", 17,
	           "expected ',' between targets in 'drop', got 'get_user'");
	drop_error("int w(void)", "get_user,", 17,
	           "expected a [cache] method or '*' in 'drop', got end of value");
}
