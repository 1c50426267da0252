/* The object set of this very process, checked against the dynamic
 * linker's own answers (dlsym). */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "symtab/symtab.h"

Test(live, printf_address_matches_dlsym)
{
	struct lm_objset set;
	struct lm_symbol s;
	void *want = dlsym(RTLD_DEFAULT, "printf");

	cr_assert_eq(lm_objset_live(&set), 0);
	cr_assert_eq(lm_symtab_find(&set, "printf", NULL, NULL, &s), LM_FIND_OK);
	cr_assert_eq((void *)s.addr, want, "%p vs %p", (void *)s.addr, want);
	cr_assert_str_eq(s.obj->soname, "libc.so.6");
	lm_symbol_free(&s);
	lm_objset_free(&set);
}

Test(live, main_program_first_and_no_vdso)
{
	struct lm_objset set;
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	cr_assert_gt(n, 0);
	self[n] = '\0';
	cr_assert_eq(lm_objset_live(&set), 0);
	cr_assert_geq(set.n, 2);
	cr_assert(set.v[0].is_main);
	cr_assert_str_eq(set.v[0].path, self);
	for (size_t i = 0; i < set.n; i++) {
		cr_assert_null(strstr(set.v[i].path, "vdso"), "%s", set.v[i].path);
		cr_assert_eq(set.v[i].is_main, i == 0);
	}
	lm_objset_free(&set);
}

/* The test binary is linked -rdynamic: its own functions are in .dynsym. */
int lm_test_live_target(int x);
int lm_test_live_target(int x)
{
	return x + 1;
}

Test(live, own_function_address_matches)
{
	struct lm_objset set;
	struct lm_symbol s;

	cr_assert_eq(lm_objset_live(&set), 0);
	cr_assert_eq(lm_symtab_find(&set, "lm_test_live_target", NULL, NULL, &s), LM_FIND_OK);
	cr_assert_eq(s.addr, (uintptr_t)lm_test_live_target);
	cr_assert(s.obj->is_main);
	lm_symbol_free(&s);
	lm_objset_free(&set);
}

Test(live, dlopened_library_added_once)
{
	struct lm_objset set;
	struct lm_symbol s;
	struct link_map *lm = NULL;
	char err[256] = "";
	void *h = dlopen(lm_fixture("libfix.so"), RTLD_NOW);
	size_t before;

	cr_assert_not_null(h, "%s", dlerror());
	cr_assert_eq(dlinfo(h, RTLD_DI_LINKMAP, &lm), 0);
	cr_assert_eq(lm_objset_live(&set), 0);
	before = set.n;
	/* The live set already holds it (dl_iterate_phdr sees it); adding it
	 * again must not duplicate it. */
	cr_assert_eq(lm_objset_add(&set, lm->l_name, lm->l_addr, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(set.n, before);
	cr_assert_eq(lm_symtab_find(&set, "fix_lib_func", NULL, "libfix.so", &s), LM_FIND_OK);
	cr_assert_eq((void *)s.addr, dlsym(h, "fix_lib_func"));
	lm_symbol_free(&s);
	lm_objset_free(&set);
	dlclose(h);
}

Test(live, add_to_a_set_without_it)
{
	struct lm_objset set = {0};
	struct lm_symbol s;
	char err[256] = "";

	cr_assert_eq(lm_objset_add(&set, lm_fixture("libfixver.so"), 0x10000, err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_eq(set.n, 1);
	cr_assert_eq(lm_symtab_find(&set, "fix_ver", NULL, NULL, &s), LM_FIND_OK);
	cr_assert_eq(s.addr, s.value + 0x10000);
	lm_symbol_free(&s);
	lm_objset_free(&set);
}

/* An address of another object is answered without reading the file of
 * the object asked: at start-up the IFUNC of a libm method was looked up
 * in every object, from node's 185,000-entry .symtab on (issue 19). */
Test(live, address_of_another_object_reads_no_file)
{
	struct lm_objset set;
	struct lm_symbol s;
	void *libc_fn = dlsym(RTLD_DEFAULT, "printf");

	cr_assert_not_null(libc_fn);
	cr_assert_eq(lm_objset_live(&set), 0);
	cr_assert(set.v[0].is_main);
	cr_expect_neq(lm_symtab_at(&set.v[0], (uintptr_t)libc_fn, &s), 0);
	lm_symbol_free(&s);
	/* has_symtab is learnt when the file is mapped */
	cr_expect_not(set.v[0].has_symtab, "the program's file was read");
	/* its own function is found, through its file */
	cr_expect_eq(lm_symtab_at(&set.v[0], (uintptr_t)lm_test_live_target, &s), 0);
	lm_symbol_free(&s);
	cr_expect(set.v[0].has_symtab);
	lm_objset_free(&set);
}
