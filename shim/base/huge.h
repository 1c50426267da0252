/* Memory on huge-page boundaries, for the arrays a hit reads at random
 * (the fast table, the store's slots and entries): with small pages each
 * such read also missed the TLB. */
#ifndef LM_HUGE_H
#define LM_HUGE_H

#include <stddef.h>

#define LM_HUGE_PAGE ((size_t)2 << 20)
#define LM_PAGE      ((size_t)4096)

/* N zeroed bytes starting on a huge page, advised MADV_HUGEPAGE (the
 * kernel backs them with huge pages where it can), with BELOW bytes (a
 * multiple of LM_PAGE) mapped below them, or NULL. The mapping ends at the
 * end of the page that holds the last byte: munmap(p - BELOW, BELOW + N)
 * gives it all back. */
void *lm_huge_map(size_t n, size_t below);

#endif
