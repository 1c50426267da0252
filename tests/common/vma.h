/* What the kernel knows of a mapping, for tests: /proc/self/smaps. */
#ifndef LM_TESTS_VMA_H
#define LM_TESTS_VMA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* True when the mapping that holds P was advised MADV_HUGEPAGE (its
 * VmFlags carry "hg"). */
static inline bool vma_huge_advised(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	if (!f)
		return false;
	char line[512];
	bool in = false, hg = false;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
		else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			hg = strstr(line, " hg") != NULL;
			break;
		}
	}
	fclose(f);
	return hg;
}

/* The end of the mapping that holds P (0: none): the kernel merges
 * neighbours of the same kind, so a test's mapping must differ from
 * them (its huge-page advice does). */
static inline uintptr_t vma_end(const void *p)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return 0;
	char line[512];
	uintptr_t end = 0;
	while (!end && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && (uintptr_t)p >= lo &&
		    (uintptr_t)p < hi)
			end = hi;
	}
	fclose(f);
	return end;
}

/* The process's mappings at one moment, from /proc/self/maps. */
struct vma_list {
	size_t n;
	uintptr_t lo[2048], hi[2048];
};

static inline void vma_read(struct vma_list *v)
{
	v->n = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return;
	char line[512];
	unsigned long lo, hi;
	while (v->n < 2048 && fgets(line, sizeof line, f))
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			v->lo[v->n] = lo;
			v->hi[v->n++] = hi;
		}
	fclose(f);
}

/* True when P lies in one of V's mappings. */
static inline bool vma_holds(const struct vma_list *v, uintptr_t p)
{
	for (size_t i = 0; i < v->n; i++)
		if (p >= v->lo[i] && p < v->hi[i])
			return true;
	return false;
}

#endif
