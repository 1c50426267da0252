/* The probe hook shared by the live tests. */
#include "tests/hook/helpers_probe.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <elf.h>
#include <link.h>
#include <string.h>

/* Can the unwinder walk from here through the thunk to the caller? */
static void look_for_caller(struct probe *p)
{
	const char *caller = p->caller ? p->caller : "cfix_caller";
	void *frames[32];
	int n = backtrace(frames, 32);
	Dl_info di;

	for (int i = 0; i < n; i++)
		if (dladdr(frames[i], &di) && di.dli_sname && !strcmp(di.dli_sname, caller))
			atomic_fetch_add(&p->saw_caller, 1);
}

static int probe_enter(struct lm_hook *h, struct lm_frame *f)
{
	struct probe *p = lm_hook_ctx(h);

	if (p->unwind)
		look_for_caller(p);
	atomic_fetch_add(&p->enters, 1);
	p->arg0 = f->gpr[0];
	p->stack0 = f->stack_args[0];
	if (p->action == LM_ENTER_RETURN) {
		f->ret_rax = p->ret_rax;
		memcpy(f->ret_xmm0, &p->ret_xmm0, sizeof(double));
	}
	return p->action;
}

static void probe_leave(struct lm_hook *h, struct lm_frame *f)
{
	struct probe *p = lm_hook_ctx(h);

	atomic_fetch_add(&p->leaves, 1);
	if (p->unwind)
		look_for_caller(p);
	p->last_rax = f->ret_rax;
	memcpy(&p->last_xmm0, f->ret_xmm0, sizeof(double));
}

static void probe_unwound(struct lm_hook *h, struct lm_frame *f)
{
	struct probe *p = lm_hook_ctx(h);

	(void)f;
	atomic_fetch_add(&p->unwounds, 1);
}

struct lm_hook *probe_hook(const char *name, void *fn, uintptr_t limit, enum lm_hook_mode mode,
                           struct probe *p, uint64_t stack_bytes, char *why, size_t whylen)
{
	const ElfW(Sym) *sym = NULL;
	struct lm_hook_req req;
	struct lm_hook *h;
	Dl_info info;

	if (!dladdr1(fn, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym) {
		strncpy(why, "no dynamic symbol", whylen);
		return NULL;
	}
	req = (struct lm_hook_req){
	    .name = name,
	    .addr = (uintptr_t)fn,
	    .size = sym->st_size,
	    .limit = limit ? limit : ((uintptr_t)fn + sym->st_size + 15) & ~(uintptr_t)15,
	    .object = info.dli_fname,
	    .mode = mode,
	    .stack_bytes = stack_bytes,
	    .enter = probe_enter,
	    .leave = probe_leave,
	    .unwound = probe_unwound,
	    .ctx = p,
	};
	h = lm_hook_prepare(&req, why, whylen);
	if (h && lm_hook_install(h, why, whylen))
		return NULL;
	return h;
}
