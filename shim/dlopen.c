/* Libraries loaded after start-up: the shim interposes dlopen and dlmopen
 * (exported on purpose, see ldmemo.map) and, after the real call returns,
 * hooks the methods the new objects define and patches their GOT slots
 * (spec guarantee 2). RTLD_LOCAL libraries are found too: symbols are
 * looked up in each object's own tables, not through dlsym. */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>

#include "runtime.h"

typedef void *(*dlopen_fn)(const char *, int);
typedef void *(*dlmopen_fn)(Lmid_t, const char *, int);

static unsigned long long last_adds;

/* dl_iterate_phdr reports how many objects were ever loaded: rescanning
 * only when that moved keeps a dlopen of an already loaded library cheap. */
static int read_adds(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	*(unsigned long long *)arg = info->dlpi_adds;
	return 1;
}

static void after_load(void)
{
	if (!lm_rt || lm_in_shim)
		return;
	int saved = errno;
	unsigned long long adds = 0;
	dl_iterate_phdr(read_adds, &adds);
	if (adds != __atomic_load_n(&last_adds, __ATOMIC_RELAXED)) {
		__atomic_store_n(&last_adds, adds, __ATOMIC_RELAXED);
		lm_in_shim++;
		lm_resolve_all(false);
		lm_in_shim--;
	}
	errno = saved;
}

__attribute__((visibility("default"))) void *dlopen(const char *file, int mode)
{
	static dlopen_fn real;
	if (!real)
		real = (dlopen_fn)dlsym(RTLD_NEXT, "dlopen");
	void *h = real ? real(file, mode) : NULL;
	if (h)
		after_load();
	return h;
}

__attribute__((visibility("default"))) void *dlmopen(Lmid_t lmid, const char *file, int mode)
{
	static dlmopen_fn real;
	if (!real)
		real = (dlmopen_fn)dlsym(RTLD_NEXT, "dlmopen");
	void *h = real ? real(lmid, file, mode) : NULL;
	if (h)
		after_load();
	return h;
}
