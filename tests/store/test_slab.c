/* The entry allocator (shim/store/slab.c): blocks are reused by size class
 * and large arrays come zeroed. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "shim/store/slab.h"
#include "tests/common/vma.h"

Test(store_slab, a_freed_block_serves_the_next_of_its_class)
{
#if defined(__SANITIZE_ADDRESS__)
	cr_skip_test("under ASan every block comes from malloc, to catch a use after free");
#endif
	char *a = lm_slab_alloc(56);
	cr_assert_not_null(a);
	cr_expect_eq((uintptr_t)a % 16, 0);
	memset(a, 0xab, 56);
	lm_slab_free(a, 56);
	/* 49..64 bytes: the same class. */
	char *b = lm_slab_alloc(64);
	cr_expect_eq(b, a);
	char *c = lm_slab_alloc(64);
	cr_expect_neq(c, b);
	lm_slab_free(b, 64);
	lm_slab_free(c, 64);
}

Test(store_slab, large_blocks_and_arrays_work_and_arrays_are_zeroed)
{
	char *big = lm_slab_alloc(4096);
	cr_assert_not_null(big);
	memset(big, 1, 4096);
	lm_slab_free(big, 4096);
	size_t n = (size_t)1 << 20;
	unsigned char *arr = lm_big_zalloc(n);
	cr_assert_not_null(arr);
	size_t nonzero = 0;
	for (size_t i = 0; i < n; i++)
		nonzero += arr[i] != 0;
	cr_expect_eq(nonzero, 0);
	lm_big_free(arr, n);
}

/* Arrays of 2 MiB and more are aligned to a huge page and advised to be
 * one (a store hit's reads then miss the TLB less), zeroed, and given back
 * whole. */
Test(store_slab, a_huge_array_is_aligned_to_a_huge_page_and_zeroed)
{
#if defined(__SANITIZE_ADDRESS__)
	cr_skip_test("under ASan arrays come from calloc");
#endif
	const size_t huge = (size_t)2 << 20;
	/* whole pages, and a store's slot arrays: a header of 24 bytes */
	for (size_t n = huge; n <= 4 * huge; n += huge + 4096 + 24) {
		static struct vma_list before, after;
		vma_read(&before);
		unsigned char *arr = lm_big_zalloc(n);
		cr_assert_not_null(arr);
		vma_read(&after);
		cr_expect_eq((uintptr_t)arr % huge, 0, "%zu bytes at %p", n, (void *)arr);
		cr_expect(vma_huge_advised(arr), "%zu bytes advised MADV_HUGEPAGE", n);
		size_t nonzero = 0;
		for (size_t i = 0; i < n; i += 512)
			nonzero += arr[i] != 0 || arr[n - 1 - i] != 0;
		cr_expect_eq(nonzero, 0);
		memset(arr, 1, n);
		/* mapped up to the end of its last page, and the alignment's
		 * slack given back: the page after it is mapped only if it
		 * was before (another mapping's, when the array took the top
		 * of what was mapped). The advice splits the mapping at the
		 * array's end, so its end alone cannot tell. */
		size_t whole = (n + 4095) / 4096 * 4096;
		cr_expect_eq(vma_end(arr), (uintptr_t)arr + whole, "%zu bytes", n);
		cr_expect_eq(vma_holds(&after, (uintptr_t)arr + whole),
		             vma_holds(&before, (uintptr_t)arr + whole), "%zu bytes: no slack kept",
		             n);
		unsigned char vec;
		lm_big_free(arr, n);
		cr_expect_eq(mincore(arr, 4096, &vec), -1, "%zu bytes unmapped", n);
	}
}
