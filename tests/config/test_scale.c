/* Many sections (issue 16, 3): parsing stays linear, counted through the
 * name table's compare counter (no timing), and errors still name the
 * right section among thousands. */
#include <stdlib.h>

#include "../common/many_sections.h"
#include "helpers.h"

/* lm_write_many_sections' N sections, then EXTRA. */
static char *many(size_t n, const char *extra)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	lm_write_many_sections(f, n);
	fputs(extra, f);
	fclose(f);
	return buf;
}

/* Name compares spent parsing N sections; every reference checked. */
static size_t compares_for(size_t n)
{
	struct parsed p;
	char *text = many(n, "");
	size_t before = lm_names_compares, q = n / 4;

	expect_clean(&p, text);
	size_t spent = lm_names_compares - before;
	cr_assert_eq(p.cfg.ntypes, q);
	cr_assert_eq(p.cfg.nmethods, n - q);
	for (size_t i = q; i < n; i++) {
		const struct lm_method *m = &p.cfg.methods[i - q];
		if (i < 3 * q)
			cr_assert_eq(m->sig.ret.type, (int)(i % q), "f_%zu", i);
		else
			cr_assert_eq(m->drops[0].method, (int)(i % q), "g_%zu", i);
	}
	char name[32];
	snprintf(name, sizeof(name), "f_%zu", q + 5);
	cr_assert_eq(lm_config_find_method(&p.cfg, name), 5);
	cr_assert_eq(lm_config_find_type(&p.cfg, "t_77"), 77);
	cr_assert_eq(lm_config_find_method(&p.cfg, "f_0"), -1);
	parsed_free(&p);
	free(text);
	return spent;
}

Test(scale, name_lookups_grow_linearly)
{
	size_t a = compares_for(4000), b = compares_for(8000);

	/* Each section is entered twice (raw, then in the config) and looked up
	 * about twice; a scan of earlier sections costs N*N/2. */
	cr_assert_leq(a, 4000 * 8, "%zu compares for 4000 sections", a);
	cr_assert_leq(b, 8000 * 8, "%zu compares for 8000 sections", b);
	cr_assert_leq(b, a * 5 / 2, "4000 sections: %zu compares, 8000: %zu", a, b);
}

/* Errors among 8000 sections: each names its own section and line. */
Test(scale, errors_name_the_right_section)
{
	/* Section k (0-based, k < 2000 a type, else method) starts at line
	 * 1 + 3k up to the invalidates, which begin at 6000*3 + 1. */
	char *text = many(8000, "[cache f_4321]\nsignature = long f_4321(long x)\n"
	                        "[type t_1999]\nfields = i32 a\n"
	                        "[cache h]\nsignature = static nosuch *h(i32 x)\n"
	                        "[invalidate k]\nsignature = void k(i32 x)\ndrop = f_1\n");
	size_t base = 6000 * 3 + 2000 * 4 + 1; /* first line after the generated part */
	struct parsed p;

	parse_text(&p, text);
	for (size_t i = 0; i < p.d.n; i++)
		cr_log_info("%d:%d: %s", p.d.v[i].pos.line, p.d.v[i].pos.col, p.d.v[i].msg);
	cr_assert_eq(p.d.n, 4);
	cr_expect_eq(p.d.v[0].pos.line, (int)base);
	cr_expect_str_eq(p.d.v[0].msg, "'f_4321' is already defined at line 12964");
	cr_expect_eq(p.d.v[1].pos.line, (int)base + 2);
	cr_expect_str_eq(p.d.v[1].msg, "'t_1999' is already defined at line 5998");
	cr_expect_eq(p.d.v[2].pos.line, (int)base + 5);
	cr_expect_str_eq(p.d.v[2].msg, "type 'nosuch' is not defined: add a [type nosuch] section "
	                               "(ldmemo symbols --config writes one)");
	cr_expect_eq(p.d.v[3].pos.line, (int)base + 8);
	cr_expect_str_eq(p.d.v[3].msg, "drop target 'f_1' is not a [cache] section");
	parsed_free(&p);
	free(text);
}
