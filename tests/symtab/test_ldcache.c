/* The /etc/ld.so.cache reader: real cache, and files that only look like
 * one. */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"
#include "symtab/image.h"

Test(ldcache, finds_libc_in_the_system_cache)
{
	struct lm_ldcache *c = lm_ldcache_load("/etc/ld.so.cache");
	size_t it = 0;
	const char *p;

	cr_assert_not_null(c);
	p = lm_ldcache_lookup(c, "libc.so.6", &it);
	cr_assert_not_null(p);
	cr_assert_str_eq(strrchr(p, '/'), "/libc.so.6");
	it = 0;
	cr_assert_null(lm_ldcache_lookup(c, "libldmemo-no-such.so.9", &it));
	lm_ldcache_free(c);
}

Test(ldcache, rejects_files_that_are_not_a_cache)
{
	cr_assert_not_null(lm_tmpdir());
	cr_assert_null(lm_ldcache_load(lm_write_file("empty", "")));
	cr_assert_null(lm_ldcache_load(lm_write_file("junk", "not a cache at all, no")));
	/* The right magic, then an entry count far beyond the file. */
	cr_assert_null(lm_ldcache_load(
	    lm_write_file("short", "glibc-ld.so.cache1.1\xff\xff\xff\x7f"
	                           "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")));
	cr_assert_null(lm_ldcache_load("/nonexistent/ld.so.cache"));
	lm_tmpdir_remove();
}
