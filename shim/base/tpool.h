/* The blocks a thread keeps for its life (front cache, fast table, reuse
 * table, the dispatcher's buffers) come from this pool and go back to it
 * when the thread ends, for the next thread. Freed to malloc instead, they
 * left each short-lived thread's arena fragmented: about 16 KiB of RSS per
 * thread (issue 16). The pool never gives memory back to malloc, so it
 * holds at most what the peak number of threads held.
 *
 * Slow path only: a lock. Blocks are 64-byte aligned and come from
 * malloc's aligned_alloc (from mmap when 64 KiB or more), kept by their
 * exact size rounded up to 64. */
#ifndef LM_TPOOL_H
#define LM_TPOOL_H

#include <stddef.h>

/* A zeroed block of SIZE bytes (> 0), or NULL on OOM. */
void *lm_tpool_take(size_t size);
/* Back to the pool: P (NULL: nothing) from lm_tpool_take(SIZE). */
void lm_tpool_give(void *p, size_t size);

#endif
