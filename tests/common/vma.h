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

#endif
