/* Work in proportion to what is asked: the live set answers from memory,
 * and the index answers a single lookup without the sorted views `ldmemo
 * symbols` builds; both must agree with those views. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "symtab/symtab.h"

static size_t libc_index(const struct lm_objset *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (strstr(set->v[i].path, "/libc.so.6"))
			return i;
	cr_assert_fail("libc.so.6 is not in the live set");
	return 0;
}

/* Sonames come from the dynamic sections in memory: known before any
 * lookup, with no file read. */
Test(lazy, live_sonames_are_known_without_a_lookup)
{
	struct lm_objset set;
	struct lm_symbol s;

	cr_assert_eq(lm_objset_live(&set), 0);
	size_t c = libc_index(&set);
	cr_expect_str_eq(set.v[c].soname, "libc.so.6");
	cr_assert_eq(lm_symtab_find(&set, "getpid", NULL, NULL, &s), LM_FIND_OK);
	cr_expect_eq(s.obj, &set.v[c]);
	lm_symbol_free(&s);
	lm_objset_free(&set);
}

Test(lazy, object_filter_by_soname)
{
	struct lm_objset set;
	struct lm_symbol s;

	cr_assert_eq(lm_objset_live(&set), 0);
	/* "libc.so" is no file's base name: only the soname matches it. */
	cr_assert_eq(lm_symtab_find(&set, "getpid", NULL, "libc.so", &s), LM_FIND_OK);
	cr_expect_str_eq(s.obj->soname, "libc.so.6");
	lm_symbol_free(&s);
	lm_objset_free(&set);
}

Test(lazy, first_lookup_keeps_errno)
{
	struct lm_objset set;
	struct lm_symbol s;

	cr_assert_eq(lm_objset_live(&set), 0);
	errno = 4242;
	cr_assert_neq(lm_symtab_find(&set, "no_such_function_anywhere", NULL, NULL, &s),
	              LM_FIND_OK);
	cr_expect_eq(errno, 4242);
	lm_objset_free(&set);
}

/* ---- lookup against listing ---------------------------------------------- */

struct listed {
	char *name, *version;
	uint64_t value, next_addr;
};

struct listing {
	struct listed *v;
	size_t n;
};

static int collect(const struct lm_symbol *s, void *arg)
{
	struct listing *l = arg;

	l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	cr_assert_not_null(l->v);
	l->v[l->n++] = (struct listed){
	    .name = strdup(s->name),
	    .version = s->version ? strdup(s->version) : NULL,
	    .value = s->value,
	    .next_addr = s->next_addr,
	};
	return 0;
}

/* Every name (with its version) the listing shows once is found by a
 * lookup in a fresh set (no sorted view built) at the same address with
 * the same reach. */
static void compare(const char *fixture, size_t obj)
{
	struct lm_objset listed_set, fresh;
	struct listing l = {0};
	char err[256];
	size_t checked = 0;

	cr_assert_eq(lm_objset_offline(lm_fixture(fixture), &listed_set, err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_eq(lm_symtab_each(&listed_set.v[obj], collect, &l), 0);
	cr_assert_eq(lm_objset_offline(lm_fixture(fixture), &fresh, err, sizeof(err)), 0, "%s",
	             err);
	for (size_t i = 0; i < l.n; i++) {
		bool unique = (i == 0 || strcmp(l.v[i - 1].name, l.v[i].name) != 0) &&
		              (i + 1 == l.n || strcmp(l.v[i + 1].name, l.v[i].name) != 0);
		struct lm_symbol s;

		/* A name listed twice is told apart by its version only. */
		if (!unique && !l.v[i].version)
			continue;
		if (lm_symtab_find(&fresh, l.v[i].name, l.v[i].version,
		                   strrchr(fresh.v[obj].path, '/') + 1, &s) != LM_FIND_OK)
			continue;
		if (s.obj == &fresh.v[obj]) {
			cr_expect_eq(s.value, l.v[i].value, "%s", l.v[i].name);
			cr_expect_eq(s.next_addr, l.v[i].next_addr, "%s", l.v[i].name);
			checked++;
		}
		lm_symbol_free(&s);
	}
	cr_expect_gt(checked, 3, "only %zu names compared", checked);
	for (size_t i = 0; i < l.n; i++) {
		free(l.v[i].name);
		free(l.v[i].version);
	}
	free(l.v);
	lm_objset_free(&listed_set);
	lm_objset_free(&fresh);
}

Test(lazy, lookup_agrees_with_listing_in_a_program)
{
	compare("fix_pie", 0);
}

Test(lazy, lookup_agrees_with_listing_in_a_stripped_program)
{
	compare("fix_stripped", 1);
}

Test(lazy, lookup_agrees_with_listing_in_a_versioned_library)
{
	struct lm_objset set;
	char err[256];
	size_t i;

	/* libfixver.so is reached through a program only when one links it:
	 * open it as the program of its own set. */
	cr_assert_eq(lm_objset_offline(lm_fixture("libfixver.so"), &set, err, sizeof(err)), 0, "%s",
	             err);
	for (i = 0; i < set.n && !strstr(set.v[i].path, "libfixver.so"); i++)
		;
	cr_assert_lt(i, set.n);
	lm_objset_free(&set);
	compare("libfixver.so", i);
}
