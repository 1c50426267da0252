/* A `str`, `buf` or `out` parameter over an argument that is not a
 * pointer (an integer: `static passwd* getpwuid(str uid)`) would make the
 * key builder read an address that is no address, and the program would
 * die in ldmemo with no word said; an `out` over read-only memory, in a
 * write on a hit. The first calls of such a method check
 * each pointer argument; the hit path never gets here once they passed. */
#include <errno.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim/hook/procmaps.h"
#include "shim/plan/plan_internal.h"

/* Can the byte at V be read? process_vm_readv on ourselves reports an
 * unmapped address as EFAULT instead of faulting. A kernel that refuses
 * the call (seccomp, no CMA) tells nothing: trusted. */
static bool readable(uint64_t v)
{
	unsigned char byte;
	struct iovec local = {&byte, 1}, remote = {lm_word_ptr(v), 1};

	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == 1 || errno != EFAULT;
}

/* Can the byte at V be written? An `out` over a `const char *` (a string
 * literal in .rodata) would make a hit write into read-only memory. Asked
 * of /proc/self/maps: unreadable maps tell nothing, trusted. */
static bool writable(uint64_t v)
{
	int prot = lm_maps_prot((uintptr_t)v);

	return prot < 0 || (prot & PROT_WRITE);
}

int lm_plan_bad_pointer(const struct lm_plan *p, const struct lm_frame *f, const char **why)
{
	for (size_t i = 0; i < p->nparams; i++) {
		const struct lm_pparam *pp = &p->params[i];

		if (pp->kind != LM_K_STR && pp->kind != LM_K_BUF && pp->kind != LM_K_OUT)
			continue;
		uint64_t v = lm_loc_read(f, &pp->loc);
		if (!v)
			continue; /* NULL is a key of its own */
		if (v < 4096) {
			*why = "an address in the first page, which is never mapped (is it an "
			       "integer?)";
			return (int)i;
		}
		if (v >= 1ull << 47) {
			*why = "not a user-space address (is it an integer?)";
			return (int)i;
		}
		if (!readable(v)) {
			*why = "an address where nothing is mapped (is it an integer?)";
			return (int)i;
		}
		bool sized = pp->size.kind == LM_SZ_LIT || pp->size.kind == LM_SZ_PARAM;
		int64_t n = pp->kind != LM_K_STR && sized ? lm_size_at(p, &pp->size, f) : 0;
		if (n > 1 && !readable(v + (uint64_t)n - 1)) {
			*why = "a block whose end is not mapped (is it an integer?)";
			return (int)i;
		}
		if (pp->kind == LM_K_OUT &&
		    (!writable(v) || (n > 1 && !writable(v + (uint64_t)n - 1)))) {
			*why = "memory that cannot be written (is the parameter const?)";
			return (int)i;
		}
	}
	return -1;
}

bool lm_plan_has_pointer_args(const struct lm_plan *p)
{
	for (size_t i = 0; i < p->nparams; i++)
		if (p->params[i].kind == LM_K_STR || p->params[i].kind == LM_K_BUF ||
		    p->params[i].kind == LM_K_OUT)
			return true;
	return false;
}
