/* The two unwinder functions thunk_unwind.c reads a frame with, taken from
 * libgcc_s when an unwinding first reaches a thunk's frame: linked, libgcc_s
 * would be loaded into every process the shim starts in (issue 19). An
 * unwinding that reaches the personality routine runs in libgcc_s (glibc
 * itself opens it for pthread_cancel and pthread_exit), so dlopen finds it
 * loaded. */
#include <dlfcn.h>
#include <pthread.h>
#include <unwind.h>

#define LM_UNWINDER_SONAME "libgcc_s.so.1"

static __typeof__(_Unwind_GetIP) *get_ip;
static __typeof__(_Unwind_GetGR) *get_gr;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void open_unwinder(void)
{
	/* Never closed: the process may unwind again. */
	void *h = dlopen(LM_UNWINDER_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return;
	get_ip = (__typeof__(_Unwind_GetIP) *)dlsym(h, "_Unwind_GetIP");
	get_gr = (__typeof__(_Unwind_GetGR) *)dlsym(h, "_Unwind_GetGR");
}

/* Without libgcc_s (never seen: the unwinder that calls is libgcc_s) the
 * frame reads as not the thunk's, and the unwinding goes on. */
_Unwind_Ptr _Unwind_GetIP(struct _Unwind_Context *ctx)
{
	pthread_once(&once, open_unwinder);
	return get_ip ? get_ip(ctx) : 0;
}

_Unwind_Word _Unwind_GetGR(struct _Unwind_Context *ctx, int reg)
{
	pthread_once(&once, open_unwinder);
	return get_gr ? get_gr(ctx, reg) : 0;
}
