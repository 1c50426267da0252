/* The program's own path (symtab.h). */
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symtab.h"

static char *_Atomic self;

const char *lm_self_exe(void)
{
	char *p = atomic_load_explicit(&self, memory_order_acquire);
	if (p)
		return p;
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
	if (n <= 0)
		return NULL;
	path[n] = '\0';
	char *mine = strdup(path);
	if (!mine)
		return NULL;
	/* a thread that read it first keeps its copy */
	if (!atomic_compare_exchange_strong_explicit(&self, &p, mine, memory_order_acq_rel,
	                                             memory_order_acquire)) {
		free(mine);
		return p;
	}
	return mine;
}
