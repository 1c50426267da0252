/* Live lookups as the shim does them at start-up: exported names through
 * each loaded object's .gnu.hash or DT_HASH in memory (no file read),
 * other names in one pass over the mapped .symtab (no index built). */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <link.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "symtab/symtab.h"

static void *open_lib(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	cr_assert_not_null(h, "%s", dlerror());
	return h;
}

/* Does the loaded object H have dynamic tag TAG? */
static bool has_tag(void *h, long tag)
{
	struct link_map *lm = NULL;

	cr_assert_eq(dlinfo(h, RTLD_DI_LINKMAP, &lm), 0);
	for (const ElfW(Dyn) *d = lm->l_ld; d->d_tag != DT_NULL; d++)
		if (d->d_tag == tag)
			return true;
	return false;
}

static void exported_through(const char *lib, long tag, long absent)
{
	struct lm_objset set;
	struct lm_symbol s;
	void *h = open_lib(lm_fixture(lib));

	cr_assert(has_tag(h, tag), "%s lacks the hash table under test", lib);
	cr_assert_not(has_tag(h, absent), "%s has both hash tables", lib);
	cr_assert_eq(lm_objset_live(&set), 0);
	cr_assert_eq(lm_symtab_find(&set, "fix_hash_exported", NULL, lib, &s), LM_FIND_OK);
	cr_expect_eq((void *)s.addr, dlsym(h, "fix_hash_exported"));
	cr_expect(s.exported);
	cr_expect_not(s.from_symtab);
	cr_expect_str_eq(s.obj->soname, lib);
	lm_symbol_free(&s);
	lm_objset_free(&set);
	dlclose(h);
}

Test(hash, exported_name_through_gnu_hash)
{
	exported_through("libhash_gnu.so", DT_GNU_HASH, DT_HASH);
}

Test(hash, exported_name_through_sysv_hash)
{
	exported_through("libhash_sysv.so", DT_HASH, DT_GNU_HASH);
}

/* The library's file is gone once it is loaded: exported names are still
 * found, since they are read where the dynamic linker mapped them. */
Test(hash, exported_names_need_no_file)
{
	struct lm_objset set;
	struct lm_symbol s;
	char path[4096], cmd[8300];
	const char *dir = lm_tmpdir();
	void *h;

	cr_assert_not_null(dir);
	snprintf(path, sizeof(path), "%s/libhash_gnu.so", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", lm_fixture("libhash_gnu.so"), path);
	cr_assert_eq(system(cmd), 0);
	h = open_lib(path);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(lm_objset_live(&set), 0);
	cr_assert_eq(lm_symtab_find(&set, "fix_hash_exported", NULL, "libhash_gnu.so", &s),
	             LM_FIND_OK);
	cr_expect_eq((void *)s.addr, dlsym(h, "fix_hash_exported"));
	lm_symbol_free(&s);
	/* Its static function needs the file: not found, and never a crash. */
	cr_expect_neq(lm_symtab_find(&set, "fix_hash_static", NULL, "libhash_gnu.so", &s),
	              LM_FIND_OK);
	lm_symbol_free(&s);
	lm_objset_free(&set);
	dlclose(h);
	lm_tmpdir_remove();
}

/* The offline index's answer for NAME in LIB, as a file address. */
static uint64_t offline_value(const char *lib, const char *name)
{
	struct lm_objset set;
	struct lm_symbol s;
	char err[256];
	uint64_t v;

	cr_assert_eq(lm_objset_offline(lm_fixture(lib), &set, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(lm_symtab_find(&set, name, NULL, lib, &s), LM_FIND_OK);
	v = s.value;
	lm_symbol_free(&s);
	lm_objset_free(&set);
	return v;
}

static void static_in_symtab(const char *lib)
{
	struct lm_objset set;
	struct lm_symbol s;
	void *h = open_lib(lm_fixture(lib));

	cr_assert_eq(lm_objset_live(&set), 0);
	cr_assert_eq(lm_symtab_find(&set, "fix_hash_static", NULL, lib, &s), LM_FIND_OK);
	cr_expect(s.from_symtab);
	cr_expect_not(s.exported);
	cr_expect_eq(s.bind, LM_BIND_LOCAL);
	cr_expect_eq(s.value, offline_value(lib, "fix_hash_static"));
	cr_expect_eq(s.addr, s.value + s.obj->bias);
	cr_expect_gt(s.size, 0);
	lm_symtab_reach(&s);
	cr_expect_gt(s.next_addr, s.value);
	lm_symbol_free(&s);
	lm_objset_free(&set);
	dlclose(h);
}

Test(hash, static_name_found_in_symtab_gnu)
{
	static_in_symtab("libhash_gnu.so");
}

Test(hash, static_name_found_in_symtab_sysv)
{
	static_in_symtab("libhash_sysv.so");
}

static void versions(const char *lib)
{
	struct lm_objset set;
	struct lm_symbol s;
	void *h = open_lib(lm_fixture(lib));

	cr_assert_eq(lm_objset_live(&set), 0);
	cr_assert_eq(lm_symtab_find(&set, "fix_ver", NULL, lib, &s), LM_FIND_OK);
	cr_expect_eq((void *)s.addr, dlsym(h, "fix_ver"));
	cr_expect_str_eq(s.version, "V2");
	cr_expect(s.default_version);
	lm_symbol_free(&s);
	cr_assert_eq(lm_symtab_find(&set, "fix_ver", "V1", lib, &s), LM_FIND_OK);
	cr_expect_eq((void *)s.addr, dlvsym(h, "fix_ver", "V1"));
	cr_expect_not(s.default_version);
	lm_symbol_free(&s);
	cr_expect_eq(lm_symtab_find(&set, "fix_ver", "V3", lib, &s), LM_FIND_BAD_VERSION);
	lm_symbol_free(&s);
	lm_objset_free(&set);
	dlclose(h);
}

Test(hash, versioned_names_gnu)
{
	versions("libfixver.so");
}

Test(hash, versioned_names_sysv)
{
	versions("libfixver_sysv.so");
}

Test(hash, name_in_neither_table_is_not_found)
{
	struct lm_objset set;
	struct lm_symbol s;
	void *g = open_lib(lm_fixture("libhash_gnu.so")),
	     *v = open_lib(lm_fixture("libhash_sysv.so"));

	cr_assert_eq(lm_objset_live(&set), 0);
	cr_expect_eq(lm_symtab_find(&set, "fix_hash_nowhere", NULL, "libhash_gnu.so", &s),
	             LM_FIND_NOT_FOUND);
	lm_symbol_free(&s);
	cr_expect_eq(lm_symtab_find(&set, "fix_hash_nowhere", NULL, "libhash_sysv.so", &s),
	             LM_FIND_NOT_FOUND);
	lm_symbol_free(&s);
	/* A prefix of a real name is no match. */
	cr_expect_eq(lm_symtab_find(&set, "fix_hash", NULL, "libhash_gnu.so", &s),
	             LM_FIND_NOT_FOUND);
	lm_symbol_free(&s);
	lm_objset_free(&set);
	dlclose(g);
	dlclose(v);
}

/* 20,000 local functions: finding two of them, and an exported one, in
 * one lookup keeps no index of the table (an index costs at least 40
 * bytes a symbol: 800 KB here). */
Test(hash, symtab_pass_builds_no_index)
{
	struct lm_objset set;
	struct lm_query q[3] = {
	    {.name = "m00007", .object = "libmanylocal.so"},
	    {.name = "m19999", .object = "libmanylocal.so"},
	    {.name = "many_exported", .object = "libmanylocal.so"},
	};
	void *h = open_lib(lm_fixture("libmanylocal.so"));
	size_t before;

	cr_assert_eq(lm_objset_live(&set), 0);
	before = mallinfo2().uordblks;
	lm_symtab_find_all(&set, q, 3);
	cr_expect_lt(mallinfo2().uordblks - before, 64 * 1024, "%zu bytes kept after the lookup",
	             mallinfo2().uordblks - before);
	for (size_t k = 0; k < 3; k++)
		cr_expect_eq(q[k].status, LM_FIND_OK, "%s", q[k].name);
	cr_expect(q[0].sym.from_symtab);
	cr_expect_eq(q[1].sym.value - q[0].sym.value, 19999 - 7);
	cr_expect(q[2].sym.exported);
	cr_expect_eq((void *)q[2].sym.addr, dlsym(h, "many_exported"));
	for (size_t k = 0; k < 3; k++)
		lm_symbol_free(&q[k].sym);
	lm_objset_free(&set);
	dlclose(h);
}

/* Loading the shim loads no library beyond libc and the dynamic linker:
 * libelf, libz, Zydis, libxxhash and libgcc_s each cost a start-up their
 * load (issue 19); they are opened on first need, or compiled in. */
Test(hash, shim_loads_only_libc_at_start)
{
	static const char *const allowed[] = {
		"libldmemo.so",
		"libc.so.6",
		"ld-linux-x86-64.so.2",
#if defined(__SANITIZE_ADDRESS__)
		/* the sanitized build's runtimes and theirs */
		"libasan.so.8",
		"libubsan.so.1",
		"libm.so.6",
		"libgcc_s.so.1",
		"libstdc++.so.6"
#endif
	};
	struct lm_objset set;
	char err[256];

	cr_assert_eq(lm_objset_offline(lm_built("libldmemo.so"), &set, err, sizeof(err)), 0, "%s",
	             err);
	for (size_t i = 0; i < set.n; i++) {
		const char *base = strrchr(set.v[i].path, '/');
		bool ok = false;

		base = base ? base + 1 : set.v[i].path;
		for (size_t k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++)
			ok |= strcmp(base, allowed[k]) == 0;
		cr_expect(ok, "the shim needs %s", set.v[i].path);
	}
	lm_objset_free(&set);
}

/* The shim never touches DWARF: neither libdw nor symtab's DWARF reader
 * is linked into it. */
Test(hash, shim_links_no_dwarf_reader)
{
	struct lm_objset set;
	struct lm_symbol s;
	char err[256];

	cr_assert_eq(lm_objset_offline(lm_built("libldmemo.so"), &set, err, sizeof(err)), 0, "%s",
	             err);
	for (size_t i = 0; i < set.n; i++)
		cr_expect_null(strstr(set.v[i].path, "libdw"), "%s", set.v[i].path);
	/* A function of the shim's own, to show the lookup sees its .symtab. */
	cr_assert_eq(lm_symtab_find(&set, "lm_symtab_find_all", NULL, "libldmemo.so", &s),
	             LM_FIND_OK);
	lm_symbol_free(&s);
	cr_expect_neq(lm_symtab_find(&set, "lm_dwarf_open", NULL, "libldmemo.so", &s), LM_FIND_OK);
	lm_symbol_free(&s);
	lm_objset_free(&set);
}
