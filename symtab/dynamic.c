/* The walk of a dynamic section, for every reader of one. */
#include "dynamic.h"

#include <string.h>

unsigned lm_dyn_read(const Elf64_Dyn *dyn, const Elf64_Sxword *tags, Elf64_Xword *vals, size_t n)
{
	unsigned found = 0;

	memset(vals, 0, n * sizeof(*vals));
	for (; dyn && dyn->d_tag != DT_NULL; dyn++)
		for (size_t i = 0; i < n; i++)
			if (dyn->d_tag == tags[i]) {
				vals[i] = dyn->d_un.d_val;
				found |= 1u << i;
			}
	return found;
}
