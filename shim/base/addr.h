/* Addresses of code and data in other objects come to us as integers
 * (symbol values, relocation offsets, /proc/self/maps); this is the one
 * place that turns them into pointers. */
#ifndef LM_ADDR_H
#define LM_ADDR_H

#include <stdint.h>

static inline void *lm_ptr(uintptr_t a)
{
	return (void *)a; /* NOLINT(performance-no-int-to-ptr) */
}

#endif
