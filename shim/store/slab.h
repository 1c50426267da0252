/* Memory for the store's entries and large slot arrays, mapped with its
 * pages already present.
 *
 * Why: on this class of machine (a paravirtualised guest) a first touch
 * of a page costs ~20 us, and malloc hands out fresh pages one by one: a
 * 64-byte entry paid ~300 ns of page fault per miss that stores. Pages
 * mapped with MAP_POPULATE cost ~2.4 us each, faulted in one system call
 * (bench/SWEEP.md has the figures). */
#ifndef LM_STORE_SLAB_H
#define LM_STORE_SLAB_H

#include <stddef.h>

/* N bytes (16-byte aligned); NULL on OOM. Sizes up to LM_SLAB_MAX come
 * from per-size free lists over populated chunks, which are never given
 * back to the system; larger ones from malloc. */
void *lm_slab_alloc(size_t n);
/* P from lm_slab_alloc(N), with the same N. */
void lm_slab_free(void *p, size_t n);

/* Zeroed, page-populated memory for a large array (mmap when N is large,
 * else calloc) and its release with the same N. */
void *lm_big_zalloc(size_t n);
void lm_big_free(void *p, size_t n);

/* Zeroed, page-aligned memory whose pages are faulted in only when first
 * touched (a mapping of its own, not populated), and its release with the
 * same N. When the process runs LeakSanitizer, the mapping is one of its
 * roots: the heap blocks it points to are not leaks. */
void *lm_lazy_zalloc(size_t n);
void lm_lazy_free(void *p, size_t n);

/* fork: the allocator's lock, taken after every store lock. */
void lm_slab_fork_prepare(void);
void lm_slab_fork_parent(void);
void lm_slab_fork_child(void);

#endif
