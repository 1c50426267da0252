/* libelf through dlopen: linking it would load it and libz into every
 * process the shim starts in, for the few that read an object's file whole.
 * The command links libelf anyway; dlopen then finds it loaded. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "libelf_lazy.h"

#define LM_LIBELF_SONAME "libelf.so.1"

struct lm_libelf lm_elf;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *missing; /* NULL once every function is found */

static void open_libelf(void)
{
	/* Never closed: the functions are used until the process ends. */
	void *h = dlopen(LM_LIBELF_SONAME, RTLD_NOW | RTLD_LOCAL);

	missing = LM_LIBELF_SONAME;
	if (!h)
		return;
#define LM_LIBELF_FIND(f)                                  \
	if (!(lm_elf.f = (__typeof__(f) *)dlsym(h, #f))) { \
		missing = #f;                              \
		return;                                    \
	}
	LM_LIBELF_FUNCS(LM_LIBELF_FIND)
#undef LM_LIBELF_FIND
	missing = NULL;
}

int lm_libelf_open(char *err, size_t errlen)
{
	pthread_once(&once, open_libelf);
	if (!missing)
		return 0;
	snprintf(err, errlen, "cannot load %s (%s): object files cannot be read", LM_LIBELF_SONAME,
	         missing);
	return -1;
}
