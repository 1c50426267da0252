/* `ldmemo symbols --config` and `ldmemo check` with DWARF: generated
 * sections that parse and match the compiler's layout, mismatches found,
 * and what both commands say when there is no debug information. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "symtab/dwarf.h"
#include "helpers.h"

static struct lm_dw_run run;
static struct lm_config cfg;
static struct lm_diags diags;
static char *conf_path;

static void teardown(void)
{
	lm_dw_run_free(&run);
	lm_config_free(&cfg);
	lm_diags_free(&diags);
	if (conf_path)
		unlink(conf_path);
	free(conf_path);
}

TestSuite(cli, .fini = teardown, .timeout = 60);

/* `ldmemo symbols --config --prototypes LIB dw_*` (every section of
 * unknown purity live, as `profile` reads them), parsed: zero errors
 * required. */
static void generate(const char *lib)
{
	const char *argv[] = {"symbols",          "--config", "--prototypes",
	                      lm_dw_fixture(lib), "dw_*",     NULL};
	int errors;

	lm_dw_run(argv, &run);
	cr_assert_eq(run.status, 0, "%s%s", run.out, run.err);
	memset(&cfg, 0, sizeof(cfg));
	errors = lm_config_parse(run.out, strlen(run.out), "generated", &cfg, &diags);
	for (size_t i = 0; i < diags.n; i++)
		cr_log_error("%d:%d: %s", diags.v[i].pos.line, diags.v[i].pos.col, diags.v[i].msg);
	cr_assert_eq(errors, 0, "%s", run.out);
}

static const struct lm_type *type(const char *name)
{
	int i = lm_config_find_type(&cfg, name);

	cr_assert_geq(i, 0, "no [type %s] in:\n%s", name, run.out);
	return &cfg.types[i];
}

static const struct lm_field *field(const struct lm_type *t, const char *name)
{
	for (size_t i = 0; i < t->nfields; i++)
		if (strcmp(t->fields[i].name, name) == 0)
			return &t->fields[i];
	cr_assert_fail("no field %s in [type %s]", name, t->name);
	return NULL;
}

static const struct lm_sig *sig(const char *name)
{
	int i = lm_config_find_method(&cfg, name);

	cr_assert_geq(i, 0, "no [cache %s] in:\n%s", name, run.out);
	return &cfg.methods[i].sig;
}

static int check(const char *conf_text, const char *lib)
{
	const char *argv[] = {"check", "-c", NULL, lm_dw_fixture(lib), NULL};

	conf_path = lm_dw_write_temp(conf_text);
	argv[2] = conf_path;
	lm_dw_run(argv, &run);
	return run.status;
}

Test(cli, generated_signatures_use_config_kinds)
{
	const struct lm_sig *s;

	generate("libdwfix.so");
	s = sig("dw_lookup");
	cr_assert_eq(s->ret.kind, LM_K_I64);
	cr_assert_eq(s->nparams, 2);
	cr_assert_eq(s->params[0].kind, LM_K_STR);
	cr_assert_str_eq(s->params[0].name, "key");
	cr_assert_eq(s->params[1].kind, LM_K_U16);
	s = sig("dw_scale");
	cr_assert_eq(s->nparams, 6);
	cr_assert_eq(s->params[0].kind, LM_K_F64);
	cr_assert_eq(s->params[1].kind, LM_K_F32);
	cr_assert_eq(s->params[2].kind, LM_K_I64);
	cr_assert_eq(s->params[3].kind, LM_K_I8);
	cr_assert_eq(s->params[4].kind, LM_K_BOOL);
	cr_assert_eq(s->params[5].kind, LM_K_U64);
	s = sig("dw_fill");
	cr_assert_eq(s->params[0].kind, LM_K_PTR);
	cr_assert_eq(s->params[1].kind, LM_K_PTR);
	cr_assert(strstr(run.out, "# rec is struct dw_record *: kept as ptr"), "%s", run.out);
	cr_assert(strstr(run.out, "buf(SIZE)") && strstr(run.out, "out(SIZE)"), "%s", run.out);
	cr_assert(strstr(run.out, "SIZE may be dw_point"), "%s", run.out);
	cr_assert(strstr(run.out, "static dw_record*"), "%s", run.out);
}

Test(cli, inexpressible_functions_are_comments_that_say_why)
{
	generate("libdwfix.so");
	cr_assert_lt(lm_config_find_method(&cfg, "dw_by_value"), 0);
	cr_assert_lt(lm_config_find_method(&cfg, "dw_printf"), 0);
	cr_assert_lt(lm_config_find_method(&cfg, "dw_precise"), 0);
	cr_assert(strstr(run.out, "# dw_by_value cannot be cached: parameter 'p' is a struct "
	                          "by value"),
	          "%s", run.out);
	cr_assert(strstr(run.out, "# dw_printf cannot be cached: variadic"), "%s", run.out);
	cr_assert(strstr(run.out, "# dw_precise cannot be cached: it returns long double"), "%s",
	          run.out);
}

/* A pointer result's owner is not in DWARF: `ptr` would hand back a
 * static buffer after the next call overwrote it, so the section is
 * written commented out with the choices. */
Test(cli, pointer_results_of_unknown_ownership_are_commented_out)
{
	generate("libdwfix.so");
	cr_assert_lt(lm_config_find_method(&cfg, "dw_first"), 0, "%s", run.out);
	cr_assert_lt(lm_config_find_method(&cfg, "dw_name"), 0, "%s", run.out);
	cr_assert(strstr(run.out, "# [cache dw_first]\n# signature = ptr dw_first(void)"), "%s",
	          run.out);
	cr_assert(strstr(run.out, "who owns the result is not known"), "%s", run.out);
	cr_assert(strstr(run.out, "static dw_record*"), "%s", run.out);
	cr_assert(strstr(run.out, "# [cache dw_name]"), "%s", run.out);
	cr_assert_null(strstr(run.out, "\nsignature = ptr "), "%s", run.out);
}

/* Nothing in the debug information tells whether a function is pure: a
 * live section for read() or free() would make the program wrong or hang
 * (gawk looped forever on libc's whole generated config). By default every
 * section that is not from the table of known functions is written
 * commented out, with the reason, and the config caches nothing. */
Test(cli, functions_of_unknown_purity_are_commented_out)
{
	const char *argv[] = {"symbols", "--config", lm_dw_fixture("libdwfix.so"), "dw_*", NULL};

	lm_dw_run(argv, &run);
	cr_assert_eq(run.status, 0, "%s%s", run.out, run.err);
	memset(&cfg, 0, sizeof(cfg));
	cr_assert_eq(lm_config_parse(run.out, strlen(run.out), "generated", &cfg, &diags), 0, "%s",
	             run.out);
	cr_expect_eq(cfg.nmethods, 0, "%zu live sections:\n%s", cfg.nmethods, run.out);
	cr_expect(strstr(run.out, "# purity unknown: commented out. Uncomment the section if "
	                          "dw_lookup's result depends only on its arguments") != NULL,
	          "%s", run.out);
	cr_expect(strstr(run.out, "# [cache dw_lookup]\n# signature = i64 dw_lookup(") != NULL,
	          "%s", run.out);
}

Test(cli, generated_types_map_every_field)
{
	const struct lm_type *r;

	generate("libdwfix.so");
	r = type("dw_record");
	cr_assert_eq(field(r, "tag")->kind, LM_K_I8);
	cr_assert_eq(field(r, "origin")->kind, LM_K_STRUCT);
	cr_assert_str_eq(cfg.types[field(r, "origin")->type].name, "dw_point");
	cr_assert_eq(field(r, "label")->kind, LM_K_BYTES);
	cr_assert_eq(field(r, "label")->nbytes, 13);
	cr_assert_eq(field(r, "title")->kind, LM_K_STR);
	cr_assert_eq(field(r, "aliases")->kind, LM_K_STRV);
	cr_assert_eq(field(r, "owner")->kind, LM_K_STRUCT_PTR);
	cr_assert_str_eq(cfg.types[field(r, "owner")->type].name, "dw_owner");
	cr_assert_eq(field(r, "port")->kind, LM_K_U16);
	cr_assert_eq(field(r, "u")->kind, LM_K_BYTES);
	cr_assert_eq(field(r, "weight")->kind, LM_K_F64);
	cr_assert_eq(field(r, "cb")->kind, LM_K_PTR);
	cr_assert_eq(field(r, "next")->kind, LM_K_PTR, "a self-pointer cannot be dw_record*");
	cr_assert(strstr(run.out, "bitfields cannot be expressed: flags mode"), "%s", run.out);
	cr_assert(strstr(run.out, "a union cannot be expressed"), "%s", run.out);
	cr_assert(strstr(run.out, "a flexible array member cannot be expressed"), "%s", run.out);
	cr_assert_eq(type("dw_rgb")->size, 3);
}

/* Every generated [type] has the compiler's sizeof and member offsets. */
Test(cli, generated_layouts_equal_the_compilers)
{
	char why[512];
	struct lm_dwarf *d;

	generate("libdwfix.so");
	d = lm_dwarf_open(lm_dw_fixture("libdwfix.so"), NULL, why, sizeof(why));
	cr_assert_not_null(d, "%s", why);
	cr_assert_geq(cfg.ntypes, 5);
	for (size_t i = 0; i < cfg.ntypes; i++) {
		const struct lm_type *t = &cfg.types[i];
		const struct lm_ctype *st = lm_dwarf_struct(d, t->name);

		cr_assert_not_null(st, "%s", t->name);
		cr_assert_eq(t->size, st->size, "sizeof %s", t->name);
		for (size_t j = 0; j < st->nmembers; j++) {
			const struct lm_cmember *m = &st->members[j];

			if (!m->name || m->bit_size ||
			    (m->type->cls == LM_CT_ARRAY && !m->type->count))
				continue;
			cr_assert_eq(field(t, m->name)->offset, m->offset, "%s.%s", t->name,
			             m->name);
		}
	}
	lm_dwarf_close(d);
}

Test(cli, debuglink_file_is_used_and_named)
{
	generate("libdwsplit.so");
	cr_assert(strstr(run.err, "debug information from") && strstr(run.err, "libdwsplit.debug"),
	          "%s", run.err);
	cr_assert_eq(sig("dw_lookup")->params[1].kind, LM_K_U16);
	cr_assert_geq(lm_config_find_type(&cfg, "dw_record"), 0);
}

Test(cli, symbols_without_debug_information_falls_back_to_the_table)
{
	const char *argv[] = {"symbols", "--config", lm_dw_fixture("libdwnone.so"), "dw_*", NULL};

	lm_dw_run(argv, &run);
	cr_assert_eq(run.status, 0, "%s", run.err);
	cr_assert(strstr(run.err, "no debug information"), "%s", run.err);
	cr_assert(strstr(run.err, "listing the symbols instead"), "%s", run.err);
	cr_assert(strstr(run.out, "OBJECT") && strstr(run.out, "dw_lookup"), "%s", run.out);
	cr_assert_null(strstr(run.out, "[cache"), "%s", run.out);
}

Test(cli, check_accepts_the_generated_config)
{
	generate("libdwfix.so");
	cr_assert_neq(check(run.out, "libdwfix.so"), 2, "%s", run.out);
	cr_assert_null(strstr(run.out, "error:"), "%s", run.out);
	cr_assert(strstr(run.out, "matches struct dw_record"), "%s", run.out);
}

Test(cli, check_finds_a_layout_mismatch)
{
	cr_assert_eq(check("[type dw_point]\nfields = i32 x, i64 y\n", "libdwfix.so"), 2, "%s",
	             run.out);
	cr_assert(strstr(run.out, "error: sizeof 16 in the config, 8 in DWARF"), "%s", run.out);
	cr_assert(strstr(run.out, "error: field 'y': offset 8 in the config, 4 in DWARF"), "%s",
	          run.out);
	cr_assert(strstr(run.out, "error: field 'y': i64 (8 bytes) in the config, int (4 bytes)"),
	          "%s", run.out);
	cr_assert(strstr(run.out, "config layout (sizeof 16): i32 x @0, i64 y @8"), "%s", run.out);
	cr_assert(strstr(run.out, "DWARF layout (sizeof 8"), "%s", run.out);
}

Test(cli, check_finds_a_missing_member)
{
	cr_assert_eq(check("[type dw_owner]\nfields = str name\n", "libdwfix.so"), 2, "%s",
	             run.out);
	cr_assert(strstr(run.out, "member 'id'"), "%s", run.out);
}

Test(cli, check_finds_a_parameter_width_mismatch)
{
	cr_assert_eq(check("[cache dw_lookup]\nsignature = i64 dw_lookup(str key, i64 port)\n",
	                   "libdwfix.so"),
	             2, "%s", run.out);
	cr_assert(strstr(run.out, "error: parameter 2 'port': i64 (8 bytes) in the config, "
	                          "short unsigned int (2 bytes) in DWARF"),
	          "%s", run.out);
	cr_assert(strstr(run.out, "DWARF (") && strstr(run.out, "dw_lookup(const char *key"), "%s",
	          run.out);
}

Test(cli, check_finds_a_parameter_count_and_class_mismatch)
{
	cr_assert_eq(
	    check("[cache dw_scale]\nsignature = i32 dw_scale(i64 factor, f32 f)\n", "libdwfix.so"),
	    2, "%s", run.out);
	cr_assert(strstr(run.out, "error: 2 parameters in the config, 6 in DWARF"), "%s", run.out);
	cr_assert(strstr(run.out, "parameter 1 'factor': i64 (8 bytes) in the config, double"),
	          "%s", run.out);
}

Test(cli, check_without_debug_information_says_so)
{
	int rc = check("[cache dw_lookup]\nsignature = i64 dw_lookup(str key, i64 port)\n"
	               "[type dw_point]\nfields = i32 x, i64 y\n",
	               "libdwnone.so");

	cr_assert_eq(rc, 0, "%s", run.out);
	cr_assert(strstr(run.out, "no debug information"), "%s", run.out);
	cr_assert(strstr(run.out, "the signature is not compared"), "%s", run.out);
	cr_assert(strstr(run.out, "the layout is not compared"), "%s", run.out);
}

/* Regression: the assembler describes a function written in assembly with
 * no prototype and an unnamed return type; check took that for a
 * mismatch (glibc's readlink) and exited 2. */
Test(cli, check_ignores_entries_without_a_prototype)
{
	cr_assert_eq(
	    check("[cache dw_asm_twice]\nsignature = i64 dw_asm_twice(i64 x)\n", "libdwfix.so"), 0,
	    "%s", run.out);
	cr_assert(strstr(run.out, "note: no prototype of dw_asm_twice"), "%s", run.out);
}

/* --help of a subcommand is help, not a usage error. */
Test(cli, subcommand_help_exits_0)
{
	static const char *const cmds[] = {"check", "symbols", "ctl"};
	for (size_t i = 0; i < 3; i++) {
		const char *argv[] = {cmds[i], "--help", NULL};
		lm_dw_run(argv, &run);
		cr_expect_eq(run.status, 0, "%s --help: %s", cmds[i], run.err);
		cr_expect(strstr(run.out, "usage: ldmemo ") != NULL, "%s", run.out);
		lm_dw_run_free(&run);
	}
}

/* out(SIZE) over a struct holding pointers (getpwuid_r's struct passwd)
 * would hand back addresses into another call's storage: refused. A
 * struct of plain values is fine. */
Test(cli, check_refuses_out_over_a_struct_with_pointers)
{
	cr_assert_eq(
	    check("[cache dw_fill]\nsignature = i32 dw_fill(out(120) rec, out(8) o, u64 n)\n",
	          "libdwfix.so"),
	    2, "%s", run.out);
	cr_assert(strstr(run.out,
	                 "error: parameter 1 'rec': out over struct dw_record, which holds "
	                 "pointers (title)"),
	          "%s", run.out);
	cr_assert_null(strstr(run.out, "parameter 2 'out'"), "%s", run.out);
}

/* out over `const char *key`: the caller may pass a string literal, and a
 * hit would write into read-only memory. Refused, at the config line. */
Test(cli, check_refuses_out_over_a_const_pointer)
{
	cr_assert_eq(check("[cache dw_lookup]\nsignature = i64 dw_lookup(out(8) key, u16 port)\n",
	                   "libdwfix.so"),
	             2, "%s", run.out);
	cr_assert(
	    strstr(run.out, ":2: parameter 1 'key': out over const char *, a pointer to const"),
	    "%s", run.out);
	cr_assert(strstr(run.out, conf_path), "%s", run.out);
}
