/* Near executable memory: a bump allocator over pages found in the gaps of
 * /proc/self/maps. A page is RW while hooks are prepared into it and RX
 * once any of them is installed; it is never W+X. */
#include "nearmem.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "shim/base/addr.h"
#include "procmaps.h"
#include "shim/base/guard.h"
#include "shim/base/section.h"

#define MAX_PAGES 1024
/* Every block starts on a 32-byte boundary: a stub (at most 32 bytes) then
 * never has its jump cross one, which Intel cores since Skylake (the JCC
 * erratum fix) would run from the legacy decoders, a few ns per call. */
#define ALIGN 32
/* keep a margin so that a whole page, and data the relocated code refers
 * to next to the target, stay within +-2 GB */
#define REACH   ((uintptr_t)INT32_MAX - (16u << 20))
#define LOWEST  ((uintptr_t)1 << 20)
#define HIGHEST ((uintptr_t)0x7ffffffff000)

struct page {
	uintptr_t base;
	size_t used;
	size_t live; /* bytes handed out and not given back */
	int sealed;
};

static struct page pages[MAX_PAGES] LM_LARGE_BSS;
static unsigned npages;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* N bytes rounded up to whole blocks. */
static size_t block(size_t n)
{
	return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

static uintptr_t page_size(void)
{
	static uintptr_t ps;

	if (!ps)
		ps = (uintptr_t)sysconf(_SC_PAGESIZE);
	return ps;
}

static int reaches(uintptr_t near, uintptr_t base)
{
	if (!near)
		return 1;
	return base + page_size() <= near + REACH && base + REACH >= near;
}

struct gap_search {
	uintptr_t near, lo, hi, prev_end, best;
	uintptr_t best_dist;
	uintptr_t avoid; /* a candidate that lost a race: skip it */
};

static void consider(struct gap_search *s, uintptr_t g0, uintptr_t g1)
{
	uintptr_t ps = page_size(), c, dist;

	if (g0 < s->lo)
		g0 = s->lo;
	if (g1 > s->hi)
		g1 = s->hi;
	g0 = (g0 + ps - 1) & ~(ps - 1);
	g1 &= ~(ps - 1);
	if (g1 < g0 + ps)
		return;
	/* the page of the gap closest to NEAR */
	if (g1 <= s->near)
		c = g1 - ps;
	else if (g0 >= s->near)
		c = g0;
	else
		c = s->near & ~(ps - 1);
	if (c == s->avoid)
		return;
	dist = c > s->near ? c - s->near : s->near - c;
	if (dist < s->best_dist) {
		s->best = c;
		s->best_dist = dist;
	}
}

static int on_mapping(uintptr_t start, uintptr_t end, int prot, void *arg)
{
	struct gap_search *s = arg;

	(void)prot;
	if (start > s->prev_end)
		consider(s, s->prev_end, start);
	if (end > s->prev_end)
		s->prev_end = end;
	return 0;
}

static uintptr_t map_near(uintptr_t near)
{
	uintptr_t ps = page_size(), avoid = 0;
	void *p;

	if (!near) {
		p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return p == MAP_FAILED ? 0 : (uintptr_t)p;
	}
	/* another thread may map the gap between our look and our mmap */
	for (int attempt = 0; attempt < 4; attempt++) {
		struct gap_search s = {.near = near, .best_dist = UINTPTR_MAX, .avoid = avoid};

		s.lo = near > REACH + LOWEST ? near - REACH : LOWEST;
		s.hi = near + REACH < HIGHEST ? near + REACH : HIGHEST;
		s.prev_end = LOWEST;
		/* the held reading first; after a lost race, the live one */
		if ((attempt ? lm_maps_foreach : lm_maps_foreach_held)(on_mapping, &s) < 0)
			return 0;
		consider(&s, s.prev_end, HIGHEST);
		if (!s.best)
			return 0;
		p = mmap(lm_ptr(s.best), ps, PROT_READ | PROT_WRITE,
		         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == lm_ptr(s.best))
			return s.best;
		/* kernels before 4.17 take the flag as a mere hint */
		if (p != MAP_FAILED)
			munmap(p, ps);
		avoid = s.best;
	}
	return 0;
}

void *lm_nearmem_alloc(uintptr_t near, size_t size)
{
	LM_KEEP_ERRNO();
	void *r = NULL;
	uintptr_t base;

	size = block(size);
	if (size > page_size())
		return NULL;
	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < npages && !r; i++) {
		struct page *pg = &pages[i];

		if (!pg->sealed && pg->used + size <= page_size() && reaches(near, pg->base)) {
			r = lm_ptr(pg->base + pg->used);
			pg->used += size;
			pg->live += size;
		}
	}
	if (!r && npages < MAX_PAGES && (base = map_near(near))) {
		pages[npages++] = (struct page){base, size, size, 0};
		r = lm_ptr(base);
	}
	pthread_mutex_unlock(&lock);
	return r;
}

void lm_nearmem_trim(void *p, size_t size, size_t used)
{
	uintptr_t a = (uintptr_t)p;

	size = block(size);
	used = block(used);
	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < npages; i++) {
		struct page *pg = &pages[i];

		if (!pg->sealed && a == pg->base + pg->used - size && used <= size) {
			pg->used -= size - used;
			pg->live -= size - used;
		}
	}
	pthread_mutex_unlock(&lock);
}

int lm_nearmem_seal(void *p)
{
	uintptr_t base = (uintptr_t)p & ~(page_size() - 1);
	LM_KEEP_ERRNO();
	int rc = -1;

	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < npages; i++) {
		if (pages[i].base != base)
			continue;
		rc = 0;
		if (!pages[i].sealed) {
			rc = mprotect(lm_ptr(base), page_size(), PROT_READ | PROT_EXEC);
			if (!rc)
				pages[i].sealed = 1;
		}
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

void lm_nearmem_free(void *p, size_t size)
{
	LM_KEEP_ERRNO();
	uintptr_t base = (uintptr_t)p & ~(page_size() - 1);

	size = block(size);
	pthread_mutex_lock(&lock);
	for (unsigned i = 0; i < npages; i++) {
		struct page *pg = &pages[i];

		if (pg->base != base || pg->live < size)
			continue;
		pg->live -= size;
		/* A sealed page is never written again: once empty it goes. */
		if (!pg->live && pg->sealed) {
			munmap(lm_ptr(base), page_size());
			*pg = pages[--npages];
		}
		break;
	}
	pthread_mutex_unlock(&lock);
}
