/* Libraries loaded after start-up: the shim interposes dlopen and dlmopen
 * (exported on purpose, see ldmemo.map) and, after the real call returns,
 * hooks the methods the new objects define and patches their GOT slots
 * (spec guarantee 2). It interposes dlclose too: the methods of a library
 * closed are released, and hooked again when it is opened again
 * (unload.c). RTLD_LOCAL libraries are found too: symbols are
 * looked up in each object's own tables, not through dlsym.
 *
 * The dynamic linker resolves a bare name with the DT_RPATH/DT_RUNPATH of
 * the object that called dlopen, which it finds from the return address:
 * through this wrapper that would be the shim. So for a bare name the
 * caller's own search path is walked here first (guarantee 1: a plugin
 * found through the caller's $ORIGIN must still be found). */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#include "symtab/dynamic.h"
#include "symtab/symtab.h"
#include "shim/base/addr.h"
#include "shim/call/runtime.h"
#include "shim/base/guard.h"
#include "shim/profile/profile.h"
#include "resolve.h"
#include "unload.h"

typedef void *(*dlopen_fn)(const char *, int);
typedef void *(*dlmopen_fn)(Lmid_t, const char *, int);
typedef int (*dlclose_fn)(void *);

static dlopen_fn real_dlopen;
static dlmopen_fn real_dlmopen;
static dlclose_fn real_dlclose;
static unsigned long long last_adds;

/* dl_iterate_phdr reports how many objects were ever loaded: rescanning
 * only when that moved keeps a dlopen of an already loaded library cheap. */
static int read_adds(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	*(unsigned long long *)arg = info->dlpi_adds;
	return 1;
}

static unsigned long long last_subs;

static int read_subs(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	*(unsigned long long *)arg = info->dlpi_subs;
	return 1;
}

static void after_load(void)
{
	if (!lm_rt) {
		lm_profile_after_load(); /* profile mode has no runtime */
		return;
	}
	if (lm_guard_held())
		return;
	LM_KEEP_ERRNO();
	unsigned long long adds = 0;
	dl_iterate_phdr(read_adds, &adds);
	if (adds != __atomic_load_n(&last_adds, __ATOMIC_RELAXED)) {
		__atomic_store_n(&last_adds, adds, __ATOMIC_RELAXED);
		lm_guard_enter();
		lm_resolve_all(false);
		lm_guard_leave();
	}
}

/* DT_RPATH and DT_RUNPATH of a loaded object (glibc has relocated the
 * d_ptr of DT_STRTAB to an address). */
static void search_of(const struct link_map *map, struct lm_searcher *s)
{
	static const Elf64_Sxword tags[] = {DT_STRTAB, DT_RPATH, DT_RUNPATH};
	Elf64_Xword v[3];
	unsigned found = lm_dyn_read(map->l_ld, tags, v, 3);
	const char *strtab = (found & 1) ? lm_ptr(v[0]) : NULL;
	s->rpath = strtab && (found & 2) ? strtab + v[1] : NULL;
	s->runpath = strtab && (found & 4) ? strtab + v[2] : NULL;
	s->origin = "";
}

static bool mentions_origin(const char *list)
{
	return list && strstr(list, "ORIGIN");
}

/* The object's $ORIGIN, when a list it is used for names it (NEEDED):
 * the realpath costs a readlink per component of the path (issue 19). */
static void origin_of(const struct link_map *map, struct lm_searcher *s, bool needed, char *origin,
                      size_t olen)
{
	if (!needed)
		return;
	const char *path = map->l_name;
	if ((!path || !*path) && !(path = lm_self_exe()))
		path = "";
	lm_libpath_origin(path, origin, olen);
	s->origin = origin;
}

struct try_ctx {
	int mode;
	void *handle;
};

static int try_path(const char *path, void *arg)
{
	struct try_ctx *t = arg;
	if (access(path, R_OK) != 0)
		return -1;
	t->handle = real_dlopen(path, t->mode);
	return t->handle ? 0 : -1;
}

/* open_as_caller's search, for a caller or program with a search path
 * (REQ and EXE, copies: their origins point into this frame). Apart, so
 * that the stack pages of its two paths are touched (the compiler probes
 * them) only when one is used. */
static __attribute__((noinline)) void *
search_as_caller(const char *name, int mode, const struct link_map *map,
                 const struct link_map *exe_map, struct lm_searcher req, struct lm_searcher exe)
{
	char origin[PATH_MAX], exe_origin[PATH_MAX];
	/* LD_LIBRARY_PATH's $ORIGIN is the caller's; the program's origin
	 * serves only its own DT_RPATH. */
	origin_of(map, &req,
	          mentions_origin(req.rpath) || mentions_origin(req.runpath) ||
	              mentions_origin(getenv("LD_LIBRARY_PATH")),
	          origin, sizeof origin);
	origin_of(exe_map, &exe, mentions_origin(exe.rpath), exe_origin, sizeof exe_origin);
	/* An object already loaded under that name wins, as in ld.so. */
	void *h = real_dlopen(name, mode | RTLD_NOLOAD);
	if (h)
		return h;
	struct try_ctx t = {mode, NULL};
	lm_libpath_search_paths(name, &req, map == exe_map ? NULL : &exe, try_path, &t);
	return t.handle;
}

/* A bare NAME as the caller at CALLER would have resolved it, or NULL
 * when its search path does not decide (the cache and default directories
 * then do, and no caller-specific rule applies). */
static void *open_as_caller(const char *name, int mode, const void *caller)
{
	Dl_info info;
	struct link_map *map = NULL;
	if (!dladdr1(caller, &info, (void **)&map, RTLD_DL_LINKMAP) || !map)
		return NULL;
	extern struct r_debug _r_debug;
	const struct link_map *exe_map = _r_debug.r_map;
	struct lm_searcher req, exe;
	search_of(map, &req);
	search_of(exe_map, &exe);
	if (!req.rpath && !req.runpath && !exe.rpath)
		return NULL;
	return search_as_caller(name, mode, map, exe_map, req, exe);
}

__attribute__((visibility("default"))) void *dlopen(const char *file, int mode)
{
	if (!real_dlopen)
		real_dlopen = (dlopen_fn)dlsym(RTLD_NEXT, "dlopen");
	if (!real_dlopen)
		return NULL;
	void *h = NULL;
	if (file && !strchr(file, '/'))
		h = open_as_caller(file, mode, __builtin_return_address(0));
	if (!h)
		h = real_dlopen(file, mode);
	if (h)
		after_load();
	return h;
}

__attribute__((visibility("default"))) void *dlmopen(Lmid_t lmid, const char *file, int mode)
{
	if (!real_dlmopen)
		real_dlmopen = (dlmopen_fn)dlsym(RTLD_NEXT, "dlmopen");
	void *h = real_dlmopen ? real_dlmopen(lmid, file, mode) : NULL;
	if (h)
		after_load();
	return h;
}

/* A destructor that closes another library (nested) leaves the release
 * to the outer call, which sees every object gone: the inner one runs
 * under the dynamic linker's lock, which resolve may wait for. */
static __thread int closing;

__attribute__((visibility("default"))) int dlclose(void *handle)
{
	if (!real_dlclose)
		real_dlclose = (dlclose_fn)dlsym(RTLD_NEXT, "dlclose");
	if (!real_dlclose)
		return -1;
	if (!lm_rt || lm_guard_held() || closing)
		return real_dlclose(handle);
	LM_KEEP_ERRNO();
	closing = 1;
	int rc = real_dlclose(handle);
	closing = 0;
	unsigned long long subs = 0;
	dl_iterate_phdr(read_subs, &subs);
	if (subs != __atomic_load_n(&last_subs, __ATOMIC_RELAXED)) {
		__atomic_store_n(&last_subs, subs, __ATOMIC_RELAXED);
		lm_guard_enter();
		lm_unload_forget_closed();
		lm_guard_leave();
	}
	return rc;
}
