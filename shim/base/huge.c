#include "huge.h"

#include <stdint.h>
#include <sys/mman.h>

void *lm_huge_map(size_t n, size_t below)
{
	size_t len = n + LM_HUGE_PAGE;
	unsigned char *m =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	/* the next boundary up, so that BELOW always fits under it */
	unsigned char *p = m + (LM_HUGE_PAGE - (uintptr_t)m % LM_HUGE_PAGE);
	unsigned char *start = p - below;
	/* the tail from the page after the last byte (N need not be whole
	 * pages: a store's arrays are not) */
	unsigned char *end = p + (n + LM_PAGE - 1) / LM_PAGE * LM_PAGE;
	if (start > m)
		munmap(m, (size_t)(start - m));
	if (end < m + len)
		munmap(end, (size_t)(m + len - end));
	madvise(p, n, MADV_HUGEPAGE);
	return p;
}
