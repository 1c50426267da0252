/* [type] sections (spec 3.6): field kinds, System V layout, recursion. */
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <time.h>

#include "helpers.h"

Test(types, glibc_structs_match_sizeof)
{
	struct parsed p;
	expect_clean(&p,
	             "[type passwd]\nfields = str pw_name, str pw_passwd, u32 pw_uid, u32 pw_gid, "
	             "str pw_gecos, str pw_dir, str pw_shell\n"
	             "[type group]\nfields = str gr_name, str gr_passwd, u32 gr_gid, strv gr_mem\n"
	             "[type tm]\nfields = i32 tm_sec, i32 tm_min, i32 tm_hour, i32 tm_mday, "
	             "i32 tm_mon, i32 tm_year, i32 tm_wday, i32 tm_yday, i32 tm_isdst, "
	             "i64 tm_gmtoff, ptr tm_zone\n");
	cr_assert_eq(p.cfg.ntypes, 3);
	cr_expect_eq(p.cfg.types[0].size, sizeof(struct passwd));
	cr_expect_eq(p.cfg.types[1].size, sizeof(struct group));
	cr_expect_eq(p.cfg.types[2].size, sizeof(struct tm));
	cr_expect_eq(p.cfg.types[0].fields[4].offset, offsetof(struct passwd, pw_gecos));
	cr_expect_eq(p.cfg.types[1].fields[3].offset, offsetof(struct group, gr_mem));
	cr_expect_eq(p.cfg.types[2].fields[9].offset, offsetof(struct tm, tm_gmtoff));
	cr_expect_eq(p.cfg.types[2].fields[10].offset, offsetof(struct tm, tm_zone));
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(p.cfg.types[i].align, 8);
		cr_expect(p.cfg.types[i].has_pointers);
	}
	cr_expect_eq(p.cfg.types[1].fields[3].kind, LM_K_STRV);
	parsed_free(&p);
}

struct inner {
	char c;
	short s;
};
struct outer {
	char a;
	struct inner in;
	unsigned char raw[5];
	double d;
	float f;
	struct inner *ip;
	bool b;
};

Test(types, nesting_bytes_and_tail_padding)
{
	struct parsed p;
	/* outer is written first: types may be used before they are defined. */
	expect_clean(&p,
	             "[type outer]\nfields = char a, inner in, bytes(5) raw, double d, float f, "
	             "inner* ip, bool b\n"
	             "[type inner]\nfields = i8 c, short s\n");
	const struct lm_type *o = &p.cfg.types[0], *in = &p.cfg.types[1];
	cr_expect_eq(in->size, sizeof(struct inner));
	cr_expect_eq(in->align, _Alignof(struct inner));
	cr_expect_not(in->has_pointers);
	cr_expect_eq(o->size, sizeof(struct outer));
	cr_expect_eq(o->align, _Alignof(struct outer));
	cr_expect_eq(o->fields[1].kind, LM_K_STRUCT);
	cr_expect_eq(o->fields[1].type, 1);
	cr_expect_eq(o->fields[1].offset, offsetof(struct outer, in));
	cr_expect_eq(o->fields[2].kind, LM_K_BYTES);
	cr_expect_eq(o->fields[2].nbytes, 5);
	cr_expect_eq(o->fields[2].offset, offsetof(struct outer, raw));
	cr_expect_eq(o->fields[3].offset, offsetof(struct outer, d));
	cr_expect_eq(o->fields[4].offset, offsetof(struct outer, f));
	cr_expect_eq(o->fields[5].kind, LM_K_STRUCT_PTR);
	cr_expect_eq(o->fields[5].offset, offsetof(struct outer, ip));
	cr_expect_eq(o->fields[6].offset, offsetof(struct outer, b));
	cr_expect(o->has_pointers);
	cr_expect_eq(o->fields[1].pos.line, 2);
	cr_expect_eq(o->fields[1].pos.col, 18);
	parsed_free(&p);
}

Test(types, every_scalar_field_kind)
{
	struct parsed p;
	expect_clean(&p, "[type t]\nfields = i8 a, i16 b, i32 c, i64 d, u8 e, u16 f, u32 g, u64 h, "
	                 "bool i, f32 j, f64 k, ptr l, str m, unsigned long n, size_t o\n");
	enum lm_kind want[] = {LM_K_I8,  LM_K_I16, LM_K_I32, LM_K_I64,  LM_K_U8,
	                       LM_K_U16, LM_K_U32, LM_K_U64, LM_K_BOOL, LM_K_F32,
	                       LM_K_F64, LM_K_PTR, LM_K_STR, LM_K_U64,  LM_K_U64};
	cr_assert_eq(p.cfg.types[0].nfields, 15);
	for (int i = 0; i < 15; i++)
		cr_expect_eq(p.cfg.types[0].fields[i].kind, want[i], "field %d", i);
	cr_expect_eq(p.cfg.types[0].size, 80);
	parsed_free(&p);
}

Test(types, a_type_may_not_contain_itself)
{
	expect_error("[type node]\nfields = i32 v, node next\n", 2, 17,
	             "type 'node' contains itself (field 'next')");
	/* Through a pointer too: deep-copying a cycle would never end. */
	expect_error("[type node]\nfields = i32 v, node* next\n", 2, 17,
	             "type 'node' contains itself (field 'next')");
}

Test(types, indirect_cycle_breaks_both)
{
	struct parsed p;
	parse_text(&p, "[type a]\nfields = b x\n[type b]\nfields = a y\n");
	cr_assert_eq(p.d.n, 2);
	cr_expect_str_eq(p.d.v[0].msg, "field 'x' uses type 'b', which has errors");
	cr_expect_str_eq(p.d.v[1].msg, "type 'b' contains itself (field 'y')");
	cr_expect(p.cfg.types[0].broken);
	cr_expect(p.cfg.types[1].broken);
	parsed_free(&p);
}

Test(types, bad_fields)
{
	expect_error("[type t]\nfields = i32 a, widget b\n", 2, 17,
	             "unknown field kind 'widget' (not a kind or a [type])");
	expect_error("[type t]\nfields = i32 a, out(4) b\n", 2, 17, "'out' is not a field kind");
	expect_error("[type t]\nfields = i32 a, struct x b\n", 2, 17,
	             "use a [type] name instead of 'struct'");
	expect_error("[type t]\nfields = bytes(0) b\n", 2, 16,
	             "bytes(N) needs 0 < N <= 1073741824");
	expect_error("[type t]\nfields = bytes b\n", 2, 10,
	             "expected bytes(N) with N a positive integer");
	expect_error("[type t]\nfields = i32 a, i32 a\n", 2, 21, "duplicate field 'a'");
	expect_error("[type t]\nfields = i32\n", 2, 13, "expected a field name, got end of value");
	expect_error("[type t]\nfields = i32 a i32 b\n", 2, 16,
	             "expected ',' between fields, got 'i32'");
	expect_error("[type t]\nfields = int *p\n", 2, 10,
	             "pointer field 'int *': use str, ptr or TYPE*");
	expect_error("[type t]\nfields = long double x\n", 2, 10, "'long double' is not supported");
}

Test(types, deep_nesting_is_capped)
{
	char text[65536];
	size_t n = 0;
	for (int i = 0; i < 70; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "[type t%d]\nfields = t%d x\n", i,
		                      i + 1);
	snprintf(text + n, sizeof(text) - n, "[type t70]\nfields = i32 x\n");
	struct parsed p;
	parse_text(&p, text);
	cr_expect_gt(p.d.n, 0);
	cr_expect(p.cfg.types[0].broken);
	cr_expect_not(p.cfg.types[70].broken);
	parsed_free(&p);
}
