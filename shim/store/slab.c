/* Size-class allocator over populated chunks (slab.h). One lock: it is
 * taken once per miss that stores and once per freed entry, never on a
 * hit. Under ASan every block comes from malloc, so that a use after free
 * is still caught. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "shim/arch/x86_64/futex.h"
#include "shim/base/huge.h"
#include "slab.h"

#if defined(__SANITIZE_ADDRESS__)
#define LM_SLAB_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LM_SLAB_OFF 1
#endif
#endif
#ifndef LM_SLAB_OFF
#define LM_SLAB_OFF 0
#endif
/* LeakSanitizer's, when the program was built with it: the store's slots
 * keep hash bits above an entry's address, which it does not take for a
 * reference, so every malloc'ed entry would be reported as a leak. */
/* (Its parameter is const void *: declared without, gcc would take the
 * fresh block for one the call reads.) */
extern void __lsan_ignore_object(void *p) __attribute__((weak));
/* Also LeakSanitizer's: it scans the heap, globals and stacks, not our own
 * mappings, for references. */
extern void __lsan_register_root_region(const void *p, size_t size) __attribute__((weak));
extern void __lsan_unregister_root_region(const void *p, size_t size) __attribute__((weak));

static void *entry_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p && __lsan_ignore_object)
		__lsan_ignore_object(p);
	return p;
}

#define LM_SLAB_GRAIN 16
#define LM_SLAB_MAX   512
#define LM_SLAB_NCLS  (LM_SLAB_MAX / LM_SLAB_GRAIN)
/* Chunks start small, so that a process with a few entries stays small,
 * and double up to 2 MiB. */
#define LM_CHUNK_MIN ((size_t)64 << 10)
#define LM_CHUNK_MAX ((size_t)2 << 20)
/* Arrays from this size on are mapped (populated) rather than calloc'ed. */
#define LM_BIG_MIN ((size_t)64 << 10)

struct free_block {
	struct free_block *next;
};

static struct lm_lock lock;
static struct free_block *freelist[LM_SLAB_NCLS];
static char *bump, *bump_end;
static size_t chunk_size = LM_CHUNK_MIN;

/* N bytes mapped and faulted in. From 2 MiB on they are aligned to a huge
 * page and asked for huge pages (where the kernel grants them): a hit in
 * a store of a million entries reads a slot and an entry at random, and
 * with small pages each read also missed the TLB (1,000,000 keys of f,
 * medians of 3: 169 ns a hit, against 191). */
static void *map_populated(size_t n)
{
	if (n < LM_HUGE_PAGE) {
		void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	void *p = lm_huge_map(n, 0);
	/* before Linux 5.14, faulted in as the entries are written */
	if (p)
		madvise(p, n, MADV_POPULATE_WRITE);
	return p;
}

static inline size_t class_of(size_t n)
{
	return n ? (n - 1) / LM_SLAB_GRAIN : 0;
}

/* Lock held. A block of class C from the current chunk, or a new one (the
 * old chunk's tail is left unused: at most one block's worth). */
static void *carve(size_t c)
{
	size_t n = (c + 1) * LM_SLAB_GRAIN;
	if ((size_t)(bump_end - bump) < n) {
		char *p = map_populated(chunk_size);
		if (!p)
			return NULL;
		bump = p;
		bump_end = p + chunk_size;
		if (chunk_size < LM_CHUNK_MAX)
			chunk_size *= 2;
	}
	void *b = bump;
	bump += n;
	return b;
}

void *lm_slab_alloc(size_t n)
{
	if (LM_SLAB_OFF || n > LM_SLAB_MAX)
		return entry_malloc(n);
	size_t c = class_of(n);
	lm_lock(&lock);
	struct free_block *b = freelist[c];
	void *p;
	if (b) {
		freelist[c] = b->next;
		p = b;
	} else {
		p = carve(c);
	}
	lm_unlock(&lock);
	return p;
}

void lm_slab_free(void *p, size_t n)
{
	if (LM_SLAB_OFF || n > LM_SLAB_MAX) {
		free(p);
		return;
	}
	if (!p)
		return;
	size_t c = class_of(n);
	struct free_block *b = p;
	lm_lock(&lock);
	b->next = freelist[c];
	freelist[c] = b;
	lm_unlock(&lock);
}

/* Under ASan from calloc too: LeakSanitizer scans the heap for the
 * references these arrays hold, not mappings of our own. */
void *lm_big_zalloc(size_t n)
{
	return LM_SLAB_OFF || n < LM_BIG_MIN ? calloc(1, n) : map_populated(n);
}

void lm_big_free(void *p, size_t n)
{
	if (LM_SLAB_OFF || n < LM_BIG_MIN)
		free(p);
	else if (p)
		munmap(p, n);
}

void *lm_lazy_zalloc(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (__lsan_register_root_region)
		__lsan_register_root_region(p, n);
	return p;
}

void lm_lazy_free(void *p, size_t n)
{
	if (!p)
		return;
	if (__lsan_unregister_root_region)
		__lsan_unregister_root_region(p, n);
	munmap(p, n);
}

void lm_slab_fork_prepare(void)
{
	lm_lock(&lock);
}

void lm_slab_fork_parent(void)
{
	lm_unlock(&lock);
}

void lm_slab_fork_child(void)
{
	lm_lock_reset(&lock);
}
