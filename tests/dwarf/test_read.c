/* Reading prototypes and struct layouts from DWARF: in the object itself,
 * through .gnu_debuglink, through a build-id tree, and none at all. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "symtab/dwarf.h"
#include "helpers.h"

static struct lm_dwarf *open_fixture(const char *name, const char *debug_path)
{
	char why[512] = "";
	struct lm_dwarf *d = lm_dwarf_open(lm_dw_fixture(name), debug_path, why, sizeof(why));

	cr_assert_not_null(d, "%s: %s", name, why);
	return d;
}

static const struct lm_cmember *member(const struct lm_ctype *t, const char *name)
{
	for (size_t i = 0; i < t->nmembers; i++)
		if (t->members[i].name && strcmp(t->members[i].name, name) == 0)
			return &t->members[i];
	cr_assert_fail("no member %s in %s", name, t->name);
	return NULL;
}

Test(read, prototype_has_parameter_types_by_width_and_sign)
{
	struct lm_dwarf *d = open_fixture("libdwfix.so", NULL);
	const struct lm_cfunc *f = lm_dwarf_func(d, "dw_lookup");

	cr_assert_not_null(f);
	cr_assert_eq(f->ret->cls, LM_CT_INT);
	cr_assert_eq(f->ret->size, sizeof(long));
	cr_assert(f->ret->is_signed);
	cr_assert_eq(f->nparams, 2);
	cr_assert_str_eq(f->params[0].name, "key");
	cr_assert_eq(f->params[0].type->cls, LM_CT_POINTER);
	cr_assert(f->params[0].type->target_const);
	cr_assert(f->params[0].type->target->is_char);
	cr_assert_eq(f->params[1].type->cls, LM_CT_INT);
	cr_assert_eq(f->params[1].type->size, sizeof(unsigned short));
	cr_assert_not(f->params[1].type->is_signed);
	cr_assert_not(f->variadic);
	lm_dwarf_close(d);
}

Test(read, variadic_long_double_and_struct_by_value_are_visible)
{
	struct lm_dwarf *d = open_fixture("libdwfix.so", NULL);
	const struct lm_cfunc *pf = lm_dwarf_func(d, "dw_printf");
	const struct lm_cfunc *ld = lm_dwarf_func(d, "dw_precise");
	const struct lm_cfunc *bv = lm_dwarf_func(d, "dw_by_value");

	cr_assert(pf && ld && bv);
	cr_assert(pf->variadic);
	cr_assert_eq(ld->ret->cls, LM_CT_FLOAT);
	cr_assert_eq(ld->ret->size, sizeof(long double));
	cr_assert_eq(bv->params[0].type->cls, LM_CT_STRUCT);
	cr_assert_str_eq(bv->params[0].type->tag, "dw_point");
	lm_dwarf_close(d);
}

Test(read, struct_members_have_offsets_kinds_and_bitfields)
{
	struct lm_dwarf *d = open_fixture("libdwfix.so", NULL);
	const struct lm_ctype *r = lm_dwarf_struct(d, "dw_record");
	const struct lm_cmember *label, *flags, *mode, *next, *u, *origin;

	cr_assert_not_null(r);
	cr_assert_eq(r->cls, LM_CT_STRUCT);
	label = member(r, "label");
	cr_assert_eq(label->type->cls, LM_CT_ARRAY);
	cr_assert_eq(label->type->count, 13);
	cr_assert(label->type->target->is_char);
	origin = member(r, "origin");
	cr_assert_eq(origin->type->cls, LM_CT_STRUCT);
	cr_assert_eq(origin->type->size, 8);
	flags = member(r, "flags");
	mode = member(r, "mode");
	cr_assert_eq(flags->bit_size, 3);
	cr_assert_eq(mode->bit_size, 5);
	cr_assert_eq(mode->bit_offset, flags->bit_offset + 3);
	u = member(r, "u");
	cr_assert_eq(u->type->cls, LM_CT_UNION);
	next = member(r, "next");
	cr_assert_eq(next->type->target, r, "a self-pointer leads back to the same type");
	cr_assert_gt(next->offset, member(r, "scores")->offset);
	lm_dwarf_close(d);
}

Test(read, anonymous_struct_is_found_by_its_typedef)
{
	struct lm_dwarf *d = open_fixture("libdwfix.so", NULL);
	const struct lm_ctype *t = lm_dwarf_struct(d, "dw_rgb");

	cr_assert_not_null(t);
	cr_assert_str_eq(t->tag, "dw_rgb");
	cr_assert_eq(t->size, 3);
	cr_assert_null(lm_dwarf_struct(d, "dw_no_such_struct"));
	cr_assert_null(lm_dwarf_func(d, "dw_no_such_function"));
	lm_dwarf_close(d);
}

Test(read, separate_debug_file_through_debuglink)
{
	struct lm_dwarf *d = open_fixture("libdwsplit.so", NULL);
	const struct lm_cfunc *f = lm_dwarf_func(d, "dw_scale");
	const char *src = lm_dwarf_source(d);

	cr_assert_str_eq(src + strlen(src) - strlen("libdwsplit.debug"), "libdwsplit.debug");
	cr_assert_not_null(f);
	cr_assert_eq(f->nparams, 6);
	lm_dwarf_close(d);
}

Test(read, separate_debug_file_through_build_id)
{
	char root[PATH_MAX], why[512];
	struct lm_dwarf *d;

	cr_assert_not_null(realpath(lm_dw_fixture("debugroot"), root));
	cr_assert_null(
	    lm_dwarf_open(lm_dw_fixture("libdwbid.so"), "/nonexistent", why, sizeof(why)),
	    "found without the build-id tree");
	d = open_fixture("libdwbid.so", root);
	cr_assert(strstr(lm_dwarf_source(d), "/.build-id/"), "%s", lm_dwarf_source(d));
	cr_assert_not_null(lm_dwarf_struct(d, "dw_record"));
	lm_dwarf_close(d);
}

Test(read, no_debug_information_says_so)
{
	char why[512] = "";

	cr_assert_null(lm_dwarf_open(lm_dw_fixture("libdwnone.so"), NULL, why, sizeof(why)));
	cr_assert(strstr(why, "no debug information"), "%s", why);
	cr_assert_null(lm_dwarf_open("/nonexistent/lib.so", NULL, why, sizeof(why)));
	cr_assert_neq(why[0], '\0');
}
