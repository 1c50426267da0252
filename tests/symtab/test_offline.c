/* Offline object sets built from the fixture programs, and the lookups the
 * dynamic linker would do in them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "symtab/symtab.h"

static struct lm_objset set;

static void open_set(const char *fixture)
{
	char err[512] = "";

	cr_assert_eq(lm_objset_offline(lm_fixture(fixture), &set, err, sizeof(err)), 0, "%s", err);
}

static void close_set(void)
{
	lm_objset_free(&set);
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static size_t index_of(const char *basename)
{
	for (size_t i = 0; i < set.n; i++)
		if (strcmp(base(set.v[i].path), basename) == 0)
			return i;
	return (size_t)-1;
}

TestSuite(offline, .fini = close_set);

Test(offline, program_first_then_needed_then_interpreter)
{
	open_set("fix_pie");
	cr_assert_geq(set.n, 4);
	cr_assert(set.v[0].is_main);
	cr_assert(set.v[0].pie);
	cr_assert(set.v[0].has_symtab);
	cr_assert_eq(index_of("libfix.so"), 1, "libfix.so found through $ORIGIN, in order");
	cr_assert_neq(index_of("libc.so.6"), (size_t)-1);
	cr_assert_str_eq(base(set.v[set.n - 1].path), "ld-linux-x86-64.so.2");
	cr_assert_eq(set.nmissing, 0);
	for (size_t i = 1; i < set.n; i++)
		cr_assert_not(set.v[i].is_main);
}

Test(offline, non_pie_program_is_not_pie)
{
	open_set("fix_nopie");
	cr_assert(set.v[0].is_main);
	cr_assert_not(set.v[0].pie);
}

static void expect_library_definition(const char *fixture)
{
	struct lm_symbol s;

	open_set(fixture);
	cr_assert_eq(lm_symtab_find(&set, "fix_lib_func", NULL, NULL, &s), LM_FIND_OK);
	cr_assert_str_eq(base(s.obj->path), "libfix.so", "the definition, not the import");
	cr_assert_not(s.obj->is_main);
	cr_assert_gt(s.size, 0);
	cr_assert(s.exported);
	cr_assert_eq(s.bind, LM_BIND_GLOBAL);
	lm_symbol_free(&s);
}

Test(offline, pie_import_resolves_to_the_library)
{
	expect_library_definition("fix_pie");
}

Test(offline, canonical_plt_entry_is_never_returned)
{
	expect_library_definition("fix_nopie");
}

Test(offline, only_imported_when_the_definition_is_out_of_reach)
{
	struct lm_symbol s;

	open_set("fix_nopie");
	cr_assert_eq(lm_symtab_find(&set, "fix_lib_func", NULL, "fix_nopie", &s),
	             LM_FIND_ONLY_IMPORTED);
	cr_assert_null(s.name);
}

Test(offline, static_function_found_in_symtab)
{
	struct lm_symbol s;

	open_set("fix_pie");
	cr_assert_eq(lm_symtab_find(&set, "fix_static_helper", NULL, NULL, &s), LM_FIND_OK);
	cr_assert(s.from_symtab);
	cr_assert_not(s.exported);
	cr_assert_eq(s.bind, LM_BIND_LOCAL);
	cr_assert(s.obj->is_main);
	cr_assert_gt(s.size, 0);
	cr_assert_geq(s.next_addr, s.value + s.size);
	lm_symbol_free(&s);
}

Test(offline, static_function_of_a_stripped_program_reports_stripped)
{
	struct lm_symbol s;

	open_set("fix_stripped");
	cr_assert_not(set.v[0].has_symtab);
	cr_assert_eq(lm_symtab_find(&set, "fix_static_helper", NULL, NULL, &s), LM_FIND_STRIPPED);
}

Test(offline, unknown_name_in_unstripped_objects_is_not_found)
{
	struct lm_symbol s;

	open_set("fix_pie");
	cr_assert_eq(lm_symtab_find(&set, "fix_no_such_function", NULL, "libfix.so", &s),
	             LM_FIND_NOT_FOUND);
}

Test(offline, default_version_and_explicit_versions)
{
	struct lm_symbol def, v1, v2;

	open_set("libfixver.so");
	cr_assert_eq(lm_symtab_find(&set, "fix_ver", NULL, NULL, &def), LM_FIND_OK);
	cr_assert_str_eq(def.version, "V2");
	cr_assert(def.default_version);
	cr_assert_eq(lm_symtab_find(&set, "fix_ver", "V1", NULL, &v1), LM_FIND_OK);
	cr_assert_str_eq(v1.version, "V1");
	cr_assert_not(v1.default_version, "V1 is the hidden one");
	cr_assert_neq(v1.value, def.value);
	cr_assert_eq(lm_symtab_find(&set, "fix_ver", "V2", NULL, &v2), LM_FIND_OK);
	cr_assert_eq(v2.value, def.value);
	lm_symbol_free(&def);
	lm_symbol_free(&v1);
	lm_symbol_free(&v2);
}

Test(offline, unknown_version_is_bad_version)
{
	struct lm_symbol s;

	open_set("libfixver.so");
	cr_assert_eq(lm_symtab_find(&set, "fix_ver", "V9", NULL, &s), LM_FIND_BAD_VERSION);
}

Test(offline, ifunc_is_reported_as_ifunc)
{
	struct lm_symbol s;

	open_set("fix_pie");
	cr_assert_eq(lm_symtab_find(&set, "fix_ifunc", NULL, NULL, &s), LM_FIND_OK);
	cr_assert_eq(s.type, LM_SYM_IFUNC);
	lm_symbol_free(&s);
	cr_assert_eq(lm_symtab_find(&set, "fix_lib_func", NULL, NULL, &s), LM_FIND_OK);
	cr_assert_eq(s.type, LM_SYM_FUNC);
	lm_symbol_free(&s);
}

static bool has(char **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return true;
	return false;
}

Test(offline, aliases_share_the_address)
{
	struct lm_symbol s, a;

	open_set("fix_pie");
	cr_assert_eq(lm_symtab_find(&set, "fix_lib_func", NULL, NULL, &s), LM_FIND_OK);
	cr_assert(has(s.aliases, s.naliases, "fix_alias"));
	cr_assert_not(has(s.aliases, s.naliases, "fix_lib_func"));
	cr_assert_eq(lm_symtab_find(&set, "fix_alias", NULL, NULL, &a), LM_FIND_OK);
	cr_assert_eq(a.value, s.value);
	cr_assert(has(a.aliases, a.naliases, "fix_lib_func"));
	lm_symbol_free(&s);
	lm_symbol_free(&a);
}

Test(offline, clones_are_listed)
{
	struct lm_symbol s;

	open_set("fix_pie");
	cr_assert_eq(lm_symtab_find(&set, "fix_work", NULL, NULL, &s), LM_FIND_OK);
	cr_assert_eq(s.nclones, 1);
	cr_assert_str_eq(s.clones[0], "fix_work.constprop.0");
	lm_symbol_free(&s);
	cr_assert_eq(lm_symtab_find(&set, "fix_lib_func", NULL, NULL, &s), LM_FIND_OK);
	cr_assert_eq(s.nclones, 0);
	lm_symbol_free(&s);
}

Test(offline, object_restricts_by_base_name_or_soname_prefix)
{
	struct lm_symbol s;

	open_set("fix_pie");
	cr_assert_eq(lm_symtab_find(&set, "printf", NULL, "libc.so", &s), LM_FIND_OK);
	cr_assert_str_eq(s.obj->soname, "libc.so.6");
	lm_symbol_free(&s);
	cr_assert_eq(lm_symtab_find(&set, "fix_lib_func", NULL, "libfix.so", &s), LM_FIND_OK);
	lm_symbol_free(&s);
	cr_assert_neq(lm_symtab_find(&set, "printf", NULL, "libfix.so", &s), LM_FIND_OK);
}

Test(offline, next_addr_stays_in_the_section)
{
	struct lm_symbol a, b;

	open_set("fix_pie");
	cr_assert_eq(lm_symtab_find(&set, "fix_square", NULL, NULL, &a), LM_FIND_OK);
	cr_assert_eq(lm_symtab_find(&set, "fix_update", NULL, NULL, &b), LM_FIND_OK);
	cr_assert_geq(a.next_addr, a.value + a.size);
	/* Nothing lies between a function and the next symbol. */
	if (b.value > a.value)
		cr_assert_leq(a.next_addr, b.value);
	else
		cr_assert_leq(b.next_addr, a.value);
	lm_symbol_free(&a);
	lm_symbol_free(&b);
}

struct seen {
	int alias, square;
	bool ordered;
	char prev[256];
};

static int count_names(const struct lm_symbol *s, void *arg)
{
	struct seen *w = arg;

	if (strcmp(s->name, "fix_alias") == 0)
		w->alias++;
	if (strcmp(s->name, "fix_square") == 0)
		w->square++;
	if (strcmp(w->prev, s->name) > 0)
		w->ordered = false;
	snprintf(w->prev, sizeof(w->prev), "%s", s->name);
	return 0;
}

Test(offline, each_lists_every_function_once_in_name_order)
{
	struct seen lib = {.ordered = true}, exe = {.ordered = true};

	open_set("fix_pie");
	cr_assert_eq(lm_symtab_each(&set.v[1], count_names, &lib), 0);
	cr_assert_eq(lib.alias, 1);
	cr_assert(lib.ordered);
	cr_assert_eq(lm_symtab_each(&set.v[0], count_names, &exe), 0);
	cr_assert_eq(exe.square, 1);
	cr_assert_eq(exe.alias, 0);
	cr_assert(exe.ordered);
}

static int stop_at_first(const struct lm_symbol *s, void *arg)
{
	(void)s;
	++*(int *)arg;
	return 7;
}

Test(offline, each_stops_when_the_callback_asks)
{
	int calls = 0;

	open_set("fix_pie");
	cr_assert_eq(lm_symtab_each(&set.v[1], stop_at_first, &calls), 7);
	cr_assert_eq(calls, 1);
}

Test(offline, read_code_through_program_headers)
{
	struct lm_symbol s;
	unsigned char code[4];

	open_set("fix_pie");
	cr_assert_eq(lm_symtab_find(&set, "fix_work", NULL, NULL, &s), LM_FIND_OK);
	cr_assert_eq(lm_object_read(s.obj, s.value, code, sizeof(code)), (long)sizeof(code));
	/* -O0 with CET: endbr64 (f3 0f 1e fa) or push %rbp (55). */
	cr_assert(code[0] == 0xf3 || code[0] == 0x55, "first byte %#x", code[0]);
	cr_assert_eq(lm_object_read(s.obj, 0xffffffff00ull, code, sizeof(code)), -1);
	lm_symbol_free(&s);
}

Test(offline, next_addr_of_back_to_back_functions)
{
	struct lm_symbol a, b;

	open_set("libfix.so");
	cr_assert_eq(lm_symtab_find(&set, "fix_tiny", NULL, NULL, &a), LM_FIND_OK);
	cr_assert_eq(lm_symtab_find(&set, "fix_tiny_next", NULL, NULL, &b), LM_FIND_OK);
	cr_assert_eq(a.size, 1);
	cr_assert_eq(a.next_addr, b.value, "no padding between them");
	lm_symbol_free(&a);
	lm_symbol_free(&b);
}

Test(offline, imported_by_another_object)
{
	open_set("fix_nopie");
	cr_assert(lm_symtab_is_imported(&set, "fix_lib_func", &set.v[1]));
	cr_assert_not(lm_symtab_is_imported(&set, "fix_lib_func", &set.v[0]));
	cr_assert_not(lm_symtab_is_imported(&set, "fix_work", NULL));
}
