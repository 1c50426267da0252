/* Whether a file has a .symtab, told from its headers alone: a stripped
 * object (Debian's libc and ld.so) is never mapped whole at start-up. */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "symtab/live.h"
#include "symtab/symtab.h"

Test(probe, symtab_told_from_the_headers)
{
	char path[] = "/tmp/ldmemo-probe-XXXXXX";
	int fd = mkstemp(path);

	cr_expect_eq(lm_elfmap_probe_symtab(lm_fixture("fix_pie"), 0, NULL), 1);
	cr_expect_eq(lm_elfmap_probe_symtab(lm_fixture("libfix.so"), 0, NULL), 1);
	cr_expect_eq(lm_elfmap_probe_symtab(lm_fixture("fix_stripped"), 0, NULL), 0);
	cr_expect_eq(lm_elfmap_probe_symtab(lm_fixture("libfixstripped.so"), 0, NULL), 0);
	cr_expect_eq(lm_elfmap_probe_symtab("/nonexistent/ldmemo-probe", 0, NULL), -1);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	cr_expect_eq(lm_elfmap_probe_symtab(path, 0, NULL), -1, "not an ELF file");
	unlink(path);
}

/* A name searched in a loaded stripped library: the library's file is
 * not mapped (it was, 2 MB for libc, to learn it had no .symtab). */
Test(probe, stripped_library_is_not_mapped)
{
	void *h = dlopen(lm_fixture("libfixstripped.so"), RTLD_NOW | RTLD_LOCAL);
	struct lm_objset set;
	struct lm_query q = {.name = "ldmemo_no_such_function_anywhere"};
	const struct lm_object *o = NULL;

	cr_assert_not_null(h, "%s", dlerror());
	cr_assert_eq(lm_objset_live(&set), 0);
	for (size_t i = 0; i < set.n; i++)
		if (strstr(set.v[i].path, "libfixstripped.so"))
			o = &set.v[i];
	cr_assert_not_null(o);
	lm_symtab_find_all(&set, &q, 1);
	cr_expect_neq(q.status, LM_FIND_OK);
	cr_expect_eq(((const struct lm_live *)o->live)->file, 0, "the file was mapped");
	cr_expect_not(o->has_symtab);
	lm_symbol_free(&q.sym);
	lm_objset_free(&set);
	dlclose(h);
}

/* The reach of an exported function of a stripped library: its .dynsym
 * read in memory, its section's end from the headers; the file is not
 * mapped, and the answer is the one the mapped file gives. */
Test(probe, stripped_reach_needs_no_map)
{
	void *h = dlopen(lm_fixture("libfixstripped.so"), RTLD_NOW | RTLD_LOCAL);
	struct lm_objset set;
	struct lm_query q = {.name = "fix_lib_func", .object = "libfixstripped.so"};
	struct lm_elfmap m;
	char err[256];

	cr_assert_not_null(h, "%s", dlerror());
	cr_assert_eq(lm_objset_live(&set), 0);
	lm_symtab_find_all(&set, &q, 1);
	cr_assert_eq(q.status, LM_FIND_OK);
	lm_symtab_reach(&q.sym);
	const struct lm_live *l = q.sym.obj->live;
	cr_expect_eq(l->file, 0, "the file was mapped");
	cr_assert_eq(lm_elfmap_open(lm_fixture("libfixstripped.so"), &m, err, sizeof err), 0, "%s",
	             err);
	uint64_t next = lm_elfmap_next_addr(&m, q.sym.shndx, q.sym.value);
	uint64_t pad = (q.sym.value + q.sym.size + 15) & ~(uint64_t)15;
	if (q.sym.size && pad < next)
		next = pad;
	cr_expect_eq(q.sym.next_addr, next);
	lm_elfmap_close(&m);
	lm_symbol_free(&q.sym);
	lm_objset_free(&set);
	dlclose(h);
}
