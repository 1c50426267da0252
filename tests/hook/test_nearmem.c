/* Near memory given back (issue 16: a library closed takes its hooks'
 * stubs and trampolines with it): a sealed page whose every block came
 * back is unmapped, and not before. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim/hook/nearmem.h"

static bool mapped(void *p)
{
	char *page = (char *)p - ((uintptr_t)p & (uintptr_t)(sysconf(_SC_PAGESIZE) - 1));
	return msync(page, 1, MS_ASYNC) == 0 || errno != ENOMEM;
}

Test(nearmem, sealed_page_unmapped_when_its_last_block_is_freed)
{
	unsigned char *a = lm_nearmem_alloc((uintptr_t)&mapped, 64);
	unsigned char *b = lm_nearmem_alloc((uintptr_t)&mapped, 100);
	cr_assert(a && b);
	cr_assert_eq((uintptr_t)a / 4096, (uintptr_t)b / 4096, "one page for both");
	cr_assert_eq(lm_nearmem_seal(a), 0);
	lm_nearmem_free(a, 64);
	cr_expect(mapped(b), "b still lives there");
	lm_nearmem_free(b, 100);
	cr_expect(!mapped(b), "the empty sealed page is gone");
}

Test(nearmem, trimmed_block_freed_by_its_kept_size)
{
	unsigned char *a = lm_nearmem_alloc(0, 400);
	cr_assert(a);
	lm_nearmem_trim(a, 400, 40);
	cr_assert_eq(lm_nearmem_seal(a), 0);
	lm_nearmem_free(a, 40);
	cr_expect(!mapped(a));
}

Test(nearmem, unsealed_page_stays_mapped)
{
	unsigned char *a = lm_nearmem_alloc(0, 64);
	cr_assert(a);
	lm_nearmem_free(a, 64);
	cr_expect(mapped(a), "a page still being filled is kept");
	a[0] = 1; /* still writable */
}
