/* Profile mode: a counting hook on every import (profile.h). The hooks go
 * through the common thunk with LM_ENTER_CALL: enter hashes the key and
 * reads the TSC, leave charges the time and looks at the result. Counters
 * are per thread (a block per thread, never freed, merged at exit), so
 * the counting path takes no lock and shares no cache line. */
#include "profile.h"

#include <dlfcn.h>
#include <fnmatch.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <x86intrin.h>
#include <xxhash.h>

#include "config/config.h"
#include "shim/base/addr.h"
#include "shim/base/buf.h"
#include "shim/base/clock.h"
#include "shim/base/guard.h"
#include "shim/base/log.h"
#include "shim/hook/hook.h"
#include "shim/hook/procmaps.h"
#include "shim/plan/plan.h"
#include "shim/arch/x86_64/reloc.h"
#include "symtab/symtab.h"
#include "sketch.h"
#include "shim/base/section.h"

/* Stack-argument bytes copied for a function whose prototype is unknown:
 * sixteen words, more than any import of the programs tried takes. */
#define UNKNOWN_STACK_BYTES 128
/* Per function and thread, the keys whose results are kept to compare. */
#define SAMPLES 16
/* Calls of a function per thread whose pointer arguments are checked
 * before the key reads through them. */
#define CHECKED_CALLS 4
/* Every this many calls in one thread, a function cheaper than two
 * lookups (so never a candidate) is no longer counted: its GOT slots lead
 * to it directly again, and the program runs at full speed through it. */
#define STOP_AFTER    16384
#define STOP_BELOW_NS 60.0
/* The most functions --functions may add. */
#define MAX_FUNCTIONS 4096
/* Room for functions first imported by libraries loaded later (dlopen):
 * record slots are untouched, so they cost address space only. */
#define LATER_FUNCTIONS 4096

struct sample {
	uint64_t key, val; /* key 0: empty */
};

/* Per-call times in ticks, four buckets a power of two: the median of a
 * function's calls, which a preempted call or two cannot move as they move
 * the mean (a loaded machine would make cheap functions look dear). */
#define HIST_BUCKETS 128

struct rec {
	uint64_t calls, cycles, fails, impure, checked, static_rep, caller_ptr;
	uint64_t last_ptr, last_key;
	struct sample samp[SAMPLES];
	uint32_t hist[HIST_BUCKETS];
	struct lm_sketch sk;
};

static inline unsigned bucket_of(uint64_t t)
{
	if (t < 4)
		return (unsigned)t;
	unsigned lg = 63u - (unsigned)__builtin_clzll(t);
	unsigned b = lg * 4 + (unsigned)((t >> (lg - 2)) & 3);
	return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

/* The middle of bucket B, in ticks. */
static double bucket_mid(unsigned b)
{
	if (b < 8)
		return b;
	unsigned lg = b / 4, sub = b % 4;
	return (double)(((uint64_t)(4 + sub) << (lg - 2)) + ((uint64_t)(5 + sub) << (lg - 2))) / 2;
}

/* The median call of HIST (CALLS calls), in ticks. */
static double median_ticks(const uint32_t *hist, uint64_t calls)
{
	uint64_t seen = 0;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		seen += hist[b];
		if (2 * seen >= calls)
			return bucket_mid(b);
	}
	return 0;
}

struct block {
	struct block *next;
	struct rec rec[];
};

struct fn {
	const char *name;
	char *object;
	struct lm_plan *plan; /* NULL: prototype unknown */
	uint32_t id;
	bool bad_args; /* a pointer argument was no pointer: key by registers */
	int stopped;   /* counting stopped (STOP_AFTER): the counts are a prefix */
	struct lm_hook *hook;
};

/* What enter leaves for leave in the frame's scratch. */
struct call {
	uint64_t key;
	uint64_t tsc;
};
_Static_assert(sizeof(struct call) <= LM_CALL_STATE_SIZE, "call state fits");

static struct fn *fns;
static uint32_t nfns;
static uint32_t nslots;      /* records per thread block: every hook's id is below */
static struct block *blocks; /* every thread's, newest first */
/* The known prototypes: ldmemo's tables, then what DWARF said of the
 * --functions; the first that names a function wins. */
#define MAX_PROTOS 16
static struct lm_config protos[MAX_PROTOS] LM_LARGE_BSS;
static size_t nprotos;
static char *out_dir;
static uint64_t start_tsc;
static int64_t start_ns;

/* The ticks the thunk's own path adds inside the timed window (from the
 * end of enter to the start of leave), measured at start-up on an empty
 * function and taken off every call. */
static uint64_t window_ticks;
static struct fn calib_fn;
static uint64_t calib_min = UINT64_MAX;

static __thread struct block *tb;
static __thread struct lm_buf kbuf, vbuf;

/* Names whose callers depend on their own stack frame, or that never
 * return through a call made by the thunk, or that the dynamic linker
 * calls with its own conventions. */
static bool denied(const char *name)
{
	static const char *const deny[] = {"setjmp",
	                                   "_setjmp",
	                                   "__sigsetjmp",
	                                   "sigsetjmp",
	                                   "__setjmp",
	                                   "savectx",
	                                   "getcontext",
	                                   "setcontext",
	                                   "swapcontext",
	                                   "vfork",
	                                   "__vfork",
	                                   "clone",
	                                   "clone3",
	                                   "__clone",
	                                   "longjmp",
	                                   "_longjmp",
	                                   "siglongjmp",
	                                   "__longjmp_chk",
	                                   "__libc_start_main",
	                                   "pthread_exit",
	                                   "exit",
	                                   "_exit",
	                                   "_Exit",
	                                   "abort",
	                                   "__stack_chk_fail",
	                                   "__tls_get_addr",
	                                   "__cxa_throw",
	                                   "__cxa_rethrow",
	                                   "_Unwind_Resume",
	                                   "_Unwind_RaiseException",
	                                   "__cxa_finalize",
	                                   "__cxa_atexit",
	                                   "atexit",
	                                   "mcount",
	                                   "__fentry__",
	                                   "__gmon_start__",
	                                   "dl_iterate_phdr",
	                                   NULL};
	if (strncmp(name, "_dl_", 4) == 0 || strncmp(name, "__libc_", 7) == 0)
		return true;
	for (const char *const *d = deny; *d; d++)
		if (strcmp(name, *d) == 0)
			return true;
	return false;
}

static struct block *new_block(void)
{
	size_t size = sizeof(struct block) + (size_t)nslots * sizeof(struct rec);
	/* mmap, not malloc: the block may be made inside the program's own
	 * malloc (a hooked call from it), and untouched records cost no
	 * memory. */
	struct block *b =
	    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return NULL;
	b->next = __atomic_load_n(&blocks, __ATOMIC_ACQUIRE);
	while (!__atomic_compare_exchange_n(&blocks, &b->next, b, true, __ATOMIC_RELEASE,
	                                    __ATOMIC_ACQUIRE))
		;
	return b;
}

static inline bool ptr_like(uint64_t v)
{
	return v >= 0x10000 && v < (1ull << 47);
}

static uint64_t key_hash(struct fn *fn, struct rec *r, const struct lm_frame *f)
{
	if (fn->plan && !fn->bad_args && r->calls < CHECKED_CALLS &&
	    lm_plan_has_pointer_args(fn->plan)) {
		const char *why;
		if (lm_plan_bad_pointer(fn->plan, f, &why) >= 0)
			fn->bad_args = true;
	}
	if (fn->plan && !fn->bad_args) {
		kbuf.len = 0;
		if (lm_plan_key(fn->plan, f, &kbuf) == 0)
			return XXH3_64bits(kbuf.p, kbuf.len) | 1;
	}
	uint64_t regs[8];
	memcpy(regs, f->gpr, sizeof f->gpr);
	regs[6] = f->xmm[0][0];
	regs[7] = f->xmm[1][0];
	return XXH3_64bits(regs, sizeof regs) | 1;
}

static uint64_t value_hash(const struct fn *fn, const struct lm_frame *f, int err, bool *fails)
{
	*fails = false;
	if (fn->plan && !fn->bad_args) {
		*fails = !lm_plan_when(fn->plan, f, err);
		vbuf.len = 0;
		if (lm_plan_capture(fn->plan, f, err, &vbuf) == 0)
			return XXH3_64bits(vbuf.p, vbuf.len);
	}
	return f->ret_rax ^ (f->ret_xmm0[0] * 0x9e3779b97f4a7c15ull);
}

static struct rec *rec_of(const struct fn *fn)
{
	if (__builtin_expect(!tb, 0))
		tb = new_block();
	return tb ? &tb->rec[fn->id] : NULL;
}

/* Stop counting FN when it is too cheap to ever be cached (R: this
 * thread's record, at STOP_AFTER calls). */
static void maybe_stop(struct fn *fn, const struct rec *r)
{
	int64_t ns = lm_now_ns() - start_ns;
	uint64_t ticks = __rdtsc() - start_tsc;
	if (ns <= 0 || !ticks)
		return;
	double median_ns = median_ticks(r->hist, r->calls) * ((double)ns / (double)ticks);
	int no = 0;
	if (median_ns < STOP_BELOW_NS &&
	    __atomic_compare_exchange_n(&fn->stopped, &no, 1, false, __ATOMIC_ACQ_REL,
	                                __ATOMIC_RELAXED))
		lm_hook_restore_got(fn->hook);
}

static int prof_enter(struct lm_hook *h, struct lm_frame *f)
{
	struct fn *fn = ((struct lm_hook_head *)h)->ctx;
	if (__builtin_expect(fn == &calib_fn, 0)) {
		/* start-up, inside the shim: timed all the same */
		((struct call *)f->call)->tsc = __rdtsc();
		return LM_ENTER_CALL;
	}
	/* a call from the profile's own code (or a handler interrupting it) */
	if (lm_guard_held())
		return LM_ENTER_PASS;
	struct call *c = (struct call *)f->call;
	int err = errno;
	lm_guard_enter();
	struct rec *r = rec_of(fn);
	c->key = r ? key_hash(fn, r, f) : 0;
	lm_guard_leave();
	errno = err;
	if (!r)
		return LM_ENTER_PASS;
	c->tsc = __rdtsc();
	return LM_ENTER_CALL;
}

static void prof_leave(struct lm_hook *h, struct lm_frame *f)
{
	const struct call *c = (const struct call *)f->call;
	uint64_t t = __rdtsc() - c->tsc;
	struct fn *fn = ((struct lm_hook_head *)h)->ctx;
	int err = errno;
	t = t > window_ticks ? t - window_ticks : 0;
	if (__builtin_expect(fn == &calib_fn, 0)) {
		if (t + window_ticks < calib_min)
			calib_min = t + window_ticks;
		return;
	}
	lm_guard_enter();
	struct rec *r = &tb->rec[fn->id];
	bool fails;
	uint64_t v = value_hash(fn, f, err, &fails);

	r->calls++;
	r->cycles += t;
	r->hist[bucket_of(t)]++;
	r->fails += fails;
	lm_sketch_add(&r->sk, c->key);
	struct sample *s = &r->samp[c->key & (SAMPLES - 1)];
	if (s->key == c->key) {
		r->checked++;
		r->impure += s->val != v;
	} else if (!s->key || (r->calls & 255) == 0) {
		/* now and then another key gets the slot: later keys are sampled too */
		s->key = c->key;
		s->val = v;
	}
	uint64_t ret = f->ret_rax;
	if (ptr_like(ret)) {
		r->static_rep += ret == r->last_ptr && c->key != r->last_key;
		r->last_ptr = ret;
		r->last_key = c->key;
		for (int i = 0; i < 6; i++)
			if (ptr_like(f->gpr[i]) && ret >= f->gpr[i] && ret - f->gpr[i] < 4096) {
				r->caller_ptr++;
				break;
			}
	}
	if (__builtin_expect((r->calls & (STOP_AFTER - 1)) == 0, 0) && !fn->stopped)
		maybe_stop(fn, r);
	lm_guard_leave();
	errno = err;
}

/* ---- set-up --------------------------------------------------------------- */

struct names {
	char **v;
	size_t n, cap;
};

static void add_name(const char *name, void *arg)
{
	struct names *ns = arg;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 256;
		char **v = realloc(ns->v, cap * sizeof *v);
		if (!v)
			return;
		ns->v = v;
		ns->cap = cap;
	}
	ns->v[ns->n] = strdup(name);
	if (ns->v[ns->n])
		ns->n++;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static struct lm_plan *plan_for(const char *name, const char *object)
{
	for (size_t k = 0; k < nprotos; k++)
		for (size_t i = 0; i < protos[k].nmethods; i++) {
			const struct lm_method *m = &protos[k].methods[i];
			if (m->broken || m->invalidator || strcmp(m->name, name) != 0)
				continue;
			if (m->object && strcmp(m->object, base_of(object)) != 0)
				continue;
			char why[256];
			return lm_plan_compile(&protos[k], m, (uint32_t)i, why, sizeof why);
		}
	return NULL;
}

/* Where NAME is defined, if it is worth a hook: not in the shim itself
 * (what it interposes) nor in the dynamic linker. */
struct local_find {
	const char *name;
	void *p;
};

/* The first loaded object whose own scope (itself and its dependencies)
 * defines the name: a library loaded RTLD_LOCAL is not in the global one. */
static int find_local(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct local_find *lf = arg;
	if (!info->dlpi_name || !*info->dlpi_name)
		return 0;
	void *h = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
	if (!h)
		return 0;
	lf->p = dlsym(h, lf->name);
	dlclose(h);
	return lf->p != NULL;
}

static bool definition(const char *name, uintptr_t *addr, const char **object, bool local)
{
	Dl_info self, di;
	void *p = dlsym(RTLD_DEFAULT, name);
	if (!p && local) {
		struct local_find lf = {.name = name};
		dl_iterate_phdr(find_local, &lf);
		p = lf.p;
	}
	const Elf64_Sym *sym = NULL;
	if (!p || !dladdr1(p, &di, (void **)&sym, RTLD_DL_SYMENT) || !di.dli_fname ||
	    !dladdr((void *)lm_profile_start, &self))
		return false;
	/* An undefined symbol with an address: a program built without PIE
	 * that takes the function's address answers with its canonical PLT
	 * entry, whose slot a GOT hook would point back at the hook (its calls
	 * recursed until the stack ran out). The definition is in an object
	 * after the program and the preloaded shim. */
	if (sym && sym->st_shndx == SHN_UNDEF &&
	    (!(p = dlsym(RTLD_NEXT, name)) || !dladdr(p, &di) || !di.dli_fname))
		return false;
	if (di.dli_fbase == self.dli_fbase || strncmp(base_of(di.dli_fname), "ld-linux", 8) == 0)
		return false;
	*addr = (uintptr_t)p;
	*object = di.dli_fname;
	return true;
}

static void write_records(void)
{
	if (!out_dir)
		return;
	lm_guard_enter(); /* for the rest of the exit: nothing more is counted */
	int err = errno;
	uint64_t wall_tsc = __rdtsc() - start_tsc;
	int64_t wall_ns = lm_now_ns() - start_ns;
	double ns_per_tick = wall_tsc ? (double)wall_ns / (double)wall_tsc : 0;
	char path[4096];
	snprintf(path, sizeof path, "%s/%d.prof", out_dir, (int)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	struct rec *sum = calloc(1, sizeof *sum);
	if (!f || !sum) {
		if (fd >= 0)
			close(fd);
		free(sum);
		errno = err;
		return;
	}
	fprintf(f, "%s\nrun\t%lld\n", LM_PROFILE_MAGIC, (long long)wall_ns);
	for (uint32_t i = 0; i < nfns; i++) {
		memset(sum, 0, sizeof *sum);
		for (struct block *b = __atomic_load_n(&blocks, __ATOMIC_ACQUIRE); b; b = b->next) {
			const struct rec *r = &b->rec[i];
			sum->calls += r->calls;
			sum->cycles += r->cycles;
			for (unsigned b = 0; b < HIST_BUCKETS; b++)
				sum->hist[b] += r->hist[b];
			sum->fails += r->fails;
			sum->impure += r->impure;
			sum->checked += r->checked;
			sum->static_rep += r->static_rep;
			sum->caller_ptr += r->caller_ptr;
			lm_sketch_merge(&sum->sk, &r->sk);
		}
		if (!sum->calls)
			continue;
		fprintf(f, "fn\t%s\t%d\t%s\t%d\t%llu\t%.0f\t%.1f\t%llu\t%llu\t%llu\t%llu\t%llu\t",
		        fns[i].name, fns[i].stopped, fns[i].object, fns[i].plan && !fns[i].bad_args,
		        (unsigned long long)sum->calls, (double)sum->cycles * ns_per_tick,
		        median_ticks(sum->hist, sum->calls) * ns_per_tick,
		        (unsigned long long)sum->fails, (unsigned long long)sum->impure,
		        (unsigned long long)sum->checked, (unsigned long long)sum->static_rep,
		        (unsigned long long)sum->caller_ptr);
		for (uint32_t k = 0; k < LM_SKETCH_REGS; k++)
			fprintf(f, "%02x", sum->sk.reg[k]);
		fputc('\n', f);
	}
	fclose(f);
	free(sum);
	errno = err;
}

/* A child of fork counts its own calls only. */
static void after_fork(void)
{
	uint32_t n = __atomic_load_n(&nfns, __ATOMIC_ACQUIRE);
	for (struct block *b = blocks; b; b = b->next)
		memset(b->rec, 0, (size_t)n * sizeof(struct rec));
	start_tsc = __rdtsc();
	start_ns = lm_now_ns();
}

/* --functions: the functions whose names match GLOBS (one a line) in the
 * program and its libraries, static ones too (.symtab), hooked by detour
 * (or through the GOT when a detour is refused). */
struct wanted {
	const char *globs;
	struct lm_symbol *v;
	size_t n, cap;
};

static bool matches(const char *globs, const char *name)
{
	char g[256];
	for (const char *p = globs; *p;) {
		size_t len = strcspn(p, "\n");
		if (len < sizeof g) {
			memcpy(g, p, len);
			g[len] = '\0';
			if (fnmatch(g, name, 0) == 0)
				return true;
		}
		p += len + (p[len] == '\n');
	}
	return false;
}

static int on_symbol(const struct lm_symbol *s, void *arg)
{
	struct wanted *w = arg;
	if (s->type != LM_SYM_FUNC || !s->size || !matches(w->globs, s->name))
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		struct lm_symbol *v = realloc(w->v, cap * sizeof *v);
		if (!v)
			return 1;
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n] = *s;
	w->v[w->n].name = strdup(s->name);
	w->v[w->n].version = NULL;
	w->v[w->n].aliases = NULL;
	w->v[w->n].naliases = 0;
	w->v[w->n].clones = NULL;
	w->v[w->n].nclones = 0;
	if (w->v[w->n].name)
		w->n++;
	return 0;
}

/* Is the definition at ADDR counted already, as an import? */
static bool counted(uintptr_t addr)
{
	for (uint32_t i = 0; i < nfns; i++)
		if ((uintptr_t)((const struct lm_hook_head *)fns[i].hook)->original == addr)
			return true;
	return false;
}

static void hook_functions(const char *globs, uint32_t cap)
{
	struct lm_objset set;
	struct wanted w = {.globs = globs};
	if (lm_objset_live(&set) != 0)
		return;
	for (size_t i = 0; i < set.n; i++) {
		const char *base = base_of(set.v[i].path);
		if (strncmp(base, "ld-linux", 8) != 0 && !strstr(base, "libldmemo"))
			lm_symtab_each(&set.v[i], on_symbol, &w);
	}
	lm_maps_hold();
	for (size_t i = 0; i < w.n; i++) {
		struct lm_symbol *s = &w.v[i];
		struct fn *fn = &fns[nfns];
		if (nfns >= cap || counted(s->addr)) {
			free(s->name);
			continue;
		}
		fn->name = s->name;
		fn->object = strdup(s->obj->path);
		fn->plan = plan_for(fn->name, s->obj->path);
		fn->id = nfns;
		uintptr_t limit = 0;
		if (s->size < 4 + LM_JMP_ABS_LEN) {
			lm_symtab_reach(s);
			limit = (uintptr_t)s->next_addr + s->obj->bias;
		}
		struct lm_hook_req req = {
		    .name = fn->name,
		    .addr = s->addr,
		    .size = s->size,
		    .limit = limit,
		    .object = fn->object,
		    .mode = LM_HM_AUTO,
		    .stack_bytes = fn->plan ? lm_plan_stack_bytes(fn->plan) : UNKNOWN_STACK_BYTES,
		    .enter = prof_enter,
		    .leave = prof_leave,
		    .ctx = fn,
		};
		char why[256];
		fn->hook = lm_hook_prepare(&req, why, sizeof why);
		if (fn->hook && lm_hook_install(fn->hook, why, sizeof why) == 0) {
			nfns++;
			continue;
		}
		lm_warn("%s: not profiled (--functions): %s", fn->name, why);
		free(fn->object);
		lm_plan_free(fn->plan);
		free(s->name);
		memset(fn, 0, sizeof *fn);
	}
	lm_maps_release();
	free(w.v);
	lm_objset_free(&set);
}

/* Every imported name considered so far, sorted: a library loaded later
 * adds hooks for the names new to it only. */
static struct names seen;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

/* Is NAME in the sorted SEEN? */
static bool was_seen(const char *name)
{
	return seen.n && bsearch(&name, seen.v, seen.n, sizeof *seen.v, by_name) != NULL;
}

/* A library that defines a counted function stays loaded: its hook keeps
 * the definition's address for the rest of the run. */
static void pin(const char *object)
{
	void *h = dlopen(object, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
	if (h)
		dlclose(h);
}

/* Hook the names of the sorted NS that are neither SEEN nor counted yet
 * and that some loaded object defines (not the shim, not the dynamic
 * linker). A name hooked moves from NS into fns. With LATER, the
 * defining library is pinned. */
static void hook_imports(struct names *ns, const struct names *later)
{
	const char *prev = NULL; /* names are freed only after the loop */
	for (size_t i = 0; fns && i < ns->n && nfns < nslots; i++) {
		uintptr_t addr;
		const char *object;
		bool again = prev && strcmp(ns->v[i], prev) == 0;
		prev = ns->v[i];
		if (again || denied(ns->v[i]) || (later && was_seen(ns->v[i])) ||
		    !definition(ns->v[i], &addr, &object, later != NULL))
			continue;
		struct fn *fn = &fns[nfns];
		fn->name = ns->v[i];
		fn->object = strdup(object);
		fn->plan = plan_for(fn->name, object);
		fn->id = nfns;
		struct lm_hook_req req = {
		    .name = fn->name,
		    .addr = addr,
		    .object = object,
		    .mode = LM_HM_GOT,
		    .stack_bytes = fn->plan ? lm_plan_stack_bytes(fn->plan) : UNKNOWN_STACK_BYTES,
		    .enter = prof_enter,
		    .leave = prof_leave,
		    .ctx = fn,
		};
		char why[256];
		struct lm_hook *h = lm_hook_prepare(&req, why, sizeof why);
		fn->hook = h;
		if (!h || lm_hook_install(h, why, sizeof why) != 0) {
			lm_debug("%s: not profiled: %s", fn->name, why);
			free(fn->object);
			lm_plan_free(fn->plan);
			memset(fn, 0, sizeof *fn);
			continue;
		}
		if (later)
			pin(fn->object);
		__atomic_store_n(&nfns, nfns + 1, __ATOMIC_RELEASE);
		ns->v[i] = strdup(fn->name); /* fns keeps the first */
	}
}

/* Move the names of the sorted NS into SEEN (sorted), dropping duplicates:
 * one merge, so a program that loads many libraries stays linear. */
static void keep_seen(struct names *ns)
{
	size_t cap = seen.n + ns->n, n = 0, i = 0, j = 0;
	char **v = cap ? malloc(cap * sizeof *v) : NULL;

	while (v && (i < seen.n || j < ns->n)) {
		if (j < ns->n && !ns->v[j]) {
			j++;
			continue;
		}
		char *next = j == ns->n || (i < seen.n && strcmp(seen.v[i], ns->v[j]) <= 0)
		                 ? seen.v[i++]
		                 : ns->v[j++];
		if (n && strcmp(v[n - 1], next) == 0)
			free(next);
		else
			v[n++] = next;
	}
	if (v) {
		free(seen.v);
		seen.v = v;
		seen.n = n;
		seen.cap = cap;
	} else { /* out of memory: SEEN stays; the new names are only forgotten */
		for (j = 0; j < ns->n; j++)
			free(ns->v[j]);
	}
	free(ns->v);
	ns->v = NULL;
	ns->n = ns->cap = 0;
}

void lm_profile_after_load(void)
{
	if (!fns || lm_guard_held())
		return;
	LM_KEEP_ERRNO();
	pthread_mutex_lock(&load_lock);
	lm_guard_enter();
	/* slots of the new objects for the names counted already */
	lm_hook_rescan_got();
	struct names ns = {0};
	lm_got_imports(add_name, &ns);
	if (ns.n)
		qsort(ns.v, ns.n, sizeof *ns.v, by_name);
	uint32_t before = nfns;
	lm_maps_hold();
	hook_imports(&ns, &seen);
	lm_maps_release();
	keep_seen(&ns);
	if (nfns != before)
		lm_debug("profile: %u more imported functions counted (a library loaded)",
		         nfns - before);
	lm_guard_leave();
	pthread_mutex_unlock(&load_lock);
}

__attribute__((noinline)) static void empty_function(void)
{
	__asm__ volatile("");
}

/* window_ticks: the least window of many calls of an empty function
 * through a hook like the others (its stub called directly). */
static void calibrate(void)
{
	struct lm_hook_req req = {
	    .name = "ldmemo-profile-calibration",
	    .addr = (uintptr_t)empty_function,
	    .mode = LM_HM_GOT,
	    .enter = prof_enter,
	    .leave = prof_leave,
	    .ctx = &calib_fn,
	};
	char why[256];
	struct lm_hook *h = lm_hook_prepare(&req, why, sizeof why);
	/* installing a GOT hook of a name no object imports patches nothing
	 * but makes the stub executable */
	if (!h || lm_hook_install(h, why, sizeof why) != 0)
		return;
	void (*stub)(void) = (void (*)(void))lm_ptr(lm_hook_get_info(h)->stub);
	for (int i = 0; i < 2000; i++)
		stub();
	if (calib_min != UINT64_MAX)
		window_ticks = calib_min;
}

void lm_profile_start(const char *dir, const char *protos_path, const char *functions)
{
	struct names ns = {0};
	lm_guard_enter();
	out_dir = strdup(dir);
	char *paths = protos_path ? strdup(protos_path) : NULL, *save = NULL;
	for (char *p = paths ? strtok_r(paths, ":", &save) : NULL; p && nprotos < MAX_PROTOS;
	     p = strtok_r(NULL, ":", &save)) {
		struct lm_diags d = {0};
		if (lm_config_load(p, &protos[nprotos], &d) == 0) {
			nprotos++;
		} else {
			lm_config_free(&protos[nprotos]);
			lm_warn("%s: prototypes not read: its functions are listed with their "
			        "prototype unknown",
			        p);
		}
		lm_diags_free(&d);
	}
	free(paths);
	lm_got_imports(add_name, &ns);
	if (ns.n)
		qsort(ns.v, ns.n, sizeof *ns.v, by_name);
	/* room for the imports and for as many --functions matches */
	size_t room = ns.n + (functions ? MAX_FUNCTIONS : 0) + LATER_FUNCTIONS;
	fns = calloc(room ? room : 1, sizeof *fns);
	nslots = (uint32_t)room;
	lm_maps_hold();
	hook_imports(&ns, NULL);
	lm_maps_release();
	if (functions && fns)
		hook_functions(functions, nslots);
	calibrate();
	keep_seen(&ns);
	start_tsc = __rdtsc();
	start_ns = lm_now_ns();
	pthread_atfork(NULL, NULL, after_fork);
	atexit(write_records);
	lm_info("profile: %u imported functions counted", nfns);
	lm_guard_leave();
}
