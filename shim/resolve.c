/* From configured names to installed hooks: find each method's definition
 * in the loaded objects, compile its plan, prepare every hook, then
 * install them (two phases, so that every refusal happens before any code
 * changes). Runs at start-up and again after each dlopen, for the methods
 * still unresolved (or unloaded, unload.c) and for GOT slots of new
 * objects. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symtab/symtab.h"
#include "shim/call/fast.h"
#include "shim/base/log.h"
#include "shim/hook/procmaps.h"
#include "shim/arch/x86_64/reloc.h"
#include "shim/call/runtime.h"
#include "proto_load.h"
#include "resolve.h"
#include "shim/call/dispatch.h"

pthread_mutex_t lm_resolve_lock = PTHREAD_MUTEX_INITIALIZER;

static enum lm_hook_mode hook_mode(const struct lm_method *m)
{
	switch (lm_method_hook(&lm_rt->cfg, m)) {
	case LM_HOOK_DETOUR:
		return LM_HM_DETOUR;
	case LM_HOOK_GOT:
		return LM_HM_GOT;
	default:
		return LM_HM_AUTO;
	}
}

/* An exec'd image or child that lacks the methods is normal (spec
 * guarantee 8: a missing method is reported at info there); the program
 * the user started is told at warn. LDMEMO_INHERITED (an earlier image or
 * a parent started the shim), or a parent that has the shim mapped, means
 * we are such a process. */
static enum lm_log_level missing_level(void)
{
	static int level = -1;
	if (level >= 0)
		return (enum lm_log_level)level;
	/* Neither level shown: no need to read the parent's maps (not
	 * kept: the level may be raised later). */
	if (lm_log_level < LM_LOG_WARN)
		return LM_LOG_WARN;
	level = LM_LOG_WARN;
	if (lm_rt->inherited) {
		level = LM_LOG_INFO;
		return (enum lm_log_level)level;
	}
	char path[64], line[512];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)getppid());
	FILE *f = fopen(path, "re");
	if (!f)
		return (enum lm_log_level)level;
	while (fgets(line, sizeof line, f))
		if (strstr(line, "/libldmemo.so")) {
			level = LM_LOG_INFO;
			break;
		}
	fclose(f);
	return (enum lm_log_level)level;
}

static const char *find_status_text(enum lm_find_status st)
{
	switch (st) {
	case LM_FIND_NOT_FOUND:
		return "no such function in the program or the libraries loaded now";
	case LM_FIND_ONLY_IMPORTED:
		return "the program imports it, but no loaded object defines it";
	case LM_FIND_STRIPPED:
		return "not found in the objects loaded now (stripped ones hide their static "
		       "functions)";
	case LM_FIND_BAD_VERSION:
		return "the function exists, but not with that version";
	default:
		return "not found";
	}
}

/* A name no loaded object defines: perhaps misspelt (a did-you-mean, only
 * where the message is a warning: an exec'd child need not pay for the
 * pass over every symbol), perhaps in a library loaded later. */
static void report_missing(const struct lm_method *cm, const struct lm_objset *set,
                           enum lm_find_status st)
{
	enum lm_log_level level = missing_level();
	char near[256], at[LM_WHERE_MAX];
	bool absent = st == LM_FIND_NOT_FOUND || st == LM_FIND_STRIPPED;

	lm_method_where(&lm_rt->cfg, cm, at, sizeof at);
	if (absent && level == LM_LOG_WARN && level <= lm_log_level &&
	    lm_symtab_nearest(set, cm->name, near, sizeof near))
		lm_log(level, "%s%s: not hooked: %s; did you mean '%s'?", at, cm->name,
		       find_status_text(st), near);
	else if (absent && !cm->object)
		lm_log(level, "%s%s: not hooked: %s; hooked if a library loaded later defines it",
		       at, cm->name, find_status_text(st));
	else
		lm_log(level, "%s%s: not hooked: %s", at, cm->name, find_status_text(st));
}

/* IFUNC symbols are hooked at the implementation the resolver picked,
 * which the dynamic linker tells us. */
static uintptr_t resolve_ifunc(const struct lm_symbol *s)
{
	void *h = s->obj->is_main ? dlopen(NULL, RTLD_LAZY)
	                          : dlopen(s->obj->path, RTLD_LAZY | RTLD_NOLOAD);
	if (!h)
		return 0;
	void *p = s->version ? dlvsym(h, s->name, s->version) : dlsym(h, s->name);
	dlclose(h);
	return (uintptr_t)p;
}

struct pending_hook {
	struct lm_rt_method *m;
	struct lm_hook *hook;
};

static bool same_function_hooked(uintptr_t addr, const struct lm_rt_method *self,
                                 const char **other)
{
	for (uint32_t i = 0; i < lm_rt->nmethods; i++) {
		const struct lm_rt_method *o = &lm_rt->methods[i];
		if (o != self && o->hook && o->addr == addr) {
			*other = o->cfg->name;
			return true;
		}
	}
	return false;
}

static bool object_loaded(const struct lm_objset *set, const char *object)
{
	for (size_t i = 0; i < set->n; i++)
		if (lm_object_matches(&set->v[i], object))
			return true;
	return false;
}

/* Phase one for one method: find it and prepare its hook. Returns 1 when a
 * hook was prepared, 0 when the method stays unhooked for now, -1 when it
 * is a start-up problem worth reporting. */
/* A patch (endbr64 and the longer jump) may reach past the end of a
 * function shorter than this, into its padding: only then is the next
 * symbol's address worth a scan of the object's tables. */
#define LM_PATCH_REACH (4 + LM_JMP_ABS_LEN)

static uintptr_t limit_of(struct lm_symbol *s)
{
	if (s->size >= LM_PATCH_REACH)
		return 0;
	lm_symtab_reach(s);
	return (uintptr_t)s->next_addr + s->obj->bias;
}

/* Static hits of a key in the first argument register (localtime,
 * getpwuid) need not even lm_thunk's frame: lm_thunk_static answers them
 * first (no fast thunk serves a static result). */
static bool static_entry(const struct lm_rt_method *m)
{
	return m->reuse && m->qword.kind != LM_QW_NONE && m->qword.off == 0;
}

static int prepare_one(struct lm_rt_method *m, struct lm_query *q, const struct lm_objset *set,
                       bool at_startup, struct pending_hook *out)
{
	const struct lm_method *cm = m->cfg;
	struct lm_symbol sym = q->sym;
	enum lm_find_status st = q->status;
	memset(&q->sym, 0, sizeof q->sym);
	if (st != LM_FIND_OK) {
		/* A method of a library the program loads later is expected to
		 * be missing now: it is hooked when dlopen brings it. */
		if (cm->object && !object_loaded(set, cm->object)) {
			if (at_startup)
				lm_info("%s: %s is not loaded yet: hooked when it is", cm->name,
				        cm->object);
			return 0;
		}
		if (at_startup)
			report_missing(cm, set, st);
		return at_startup && missing_level() == LM_LOG_WARN ? -1 : 0;
	}
	for (size_t i = 0; i < sym.nclones; i++)
		lm_warn("%s: the compiler made a clone, %s: calls through it are not cached",
		        cm->name, sym.clones[i]);

	uintptr_t addr = sym.addr;
	uint64_t size = sym.size;
	uintptr_t limit = limit_of(&sym);
	if (sym.type == LM_SYM_IFUNC) {
		/* The implementation's extent comes from its own symbol; without
		 * one (a stripped object) only GOT mode can hook it. */
		addr = resolve_ifunc(&sym);
		size = 0;
		limit = 0;
		struct lm_symbol impl;
		for (size_t i = 0; addr && i < set->n; i++)
			if (lm_symtab_at(&set->v[i], addr, &impl) == 0) {
				size = impl.size;
				limit = limit_of(&impl);
				lm_symbol_free(&impl);
				break;
			}
	}
	/* A method loaded again keeps its path: a statistics dump may be reading it. */
	if (!m->object || strcmp(m->object, sym.obj->path) != 0) {
		free(m->object);
		m->object = strdup(sym.obj->path);
	}
	int rc = -1;
	const char *other;
	char why[256] = "";
	if (addr == 0) {
		snprintf(why, sizeof why, "the IFUNC resolver gave no implementation");
	} else if (same_function_hooked(addr, m, &other)) {
		snprintf(why, sizeof why, "same function as %s (an alias), hooked once", other);
	} else if (lm_rt->strict && cm->sig.name &&
	           !lm_proto_agrees(lm_rt->cfg.file ? lm_rt->cfg.file : "config", cm,
	                            sym.obj->path)) {
		snprintf(why, sizeof why, "the signature disagrees with the debug information");
	} else {
		struct lm_hook_req req = {
		    .name = cm->name,
		    .addr = addr,
		    .size = size,
		    .limit = limit,
		    .object = sym.obj->path,
		    .mode = hook_mode(cm),
		    .stack_bytes = lm_plan_stack_bytes(m->plan),
		    .enter = cm->invalidator ? lm_dispatch_enter_write : lm_dispatch_enter,
		    .quick = m->reuse ? lm_dispatch_quick : NULL,
		    .leave = cm->invalidator ? lm_dispatch_leave_write : lm_dispatch_leave,
		    .unwound = cm->invalidator ? lm_dispatch_unwound_write : lm_dispatch_unwound,
		    .ctx = m,
		};
		/* ttl = 0 without negative caching stores nothing to copy; a
		 * shared method's copies live at most l1_ttl. */
		bool expires = m->ttl_ms != LM_DUR_NEVER || m->negative_ttl_ms > 0 || m->shared;
		if (!cm->invalidator && !m->verify && (m->ttl_ms != 0 || m->negative_ttl_ms > 0))
			req.entry = lm_fast_prepare(m->plan, m->id, lm_rt_copy_epoch(lm_rt, m),
			                            expires, &req.fast);
		/* a string or out thunk waits for the first calls' pointer checks */
		req.fast.gate = &m->arg_checks;
		/* a method the fast thunk does not serve may still answer its
		 * front-cache hits before the vector registers are saved */
		if (!cm->invalidator && !m->verify && !m->reuse && !req.entry &&
		    lm_plan_quick_front(m->plan))
			req.quick = lm_dispatch_quick_front;
		/* only a fast thunk reads the fast table its copies go to */
		bool fast = req.entry != NULL;
		if (!fast && static_entry(m))
			req.entry = lm_thunk_static;
		out->hook = lm_hook_prepare(&req, why, sizeof why);
		if (out->hook) {
			m->addr = addr;
			m->fast = fast;
			out->m = m;
			rc = 1;
		}
	}
	if (rc < 0) {
		char at[LM_WHERE_MAX];
		m->state = LM_HS_FAILED;
		lm_warn("%s%s: not hooked: %s", lm_method_where(&lm_rt->cfg, cm, at, sizeof at),
		        cm->name, why);
	}
	lm_symbol_free(&sym);
	return rc;
}

static void log_installed(const struct lm_rt_method *m)
{
	const struct lm_hook_info *hi = lm_hook_get_info(m->hook);
	const char *mode = hi->mode == LM_HM_GOT ? "got" : "detour";
	const char *fast = m->fast ? " (fast hits)" : static_entry(m) ? " (static hits)" : "";
	if (hi->fallback[0])
		lm_info("%s: %s at %#lx in %s%s (detour refused: %s)", m->cfg->name, mode,
		        (unsigned long)m->addr, m->object, fast, hi->fallback);
	else
		lm_info("%s: %s at %#lx in %s%s", m->cfg->name, mode, (unsigned long)m->addr,
		        m->object, fast);
	if (lm_log_level >= LM_LOG_DEBUG) {
		char buf[4096];
		lm_hook_describe(m->hook, buf, sizeof buf);
		lm_log_block(LM_LOG_DEBUG, buf);
	}
}

/* An object whose file cannot be read keeps its exported functions; the
 * user learns why its static ones are not found. */
static void warn_object(const char *msg, void *arg)
{
	(void)arg;
	lm_warn("%s", msg);
}

static bool wanted(const struct lm_rt_method *m)
{
	return !m->hook && m->plan && m->state != LM_HS_FAILED;
}

int lm_resolve_all(bool at_startup)
{
	int problems = 0;
	pthread_mutex_lock(&lm_resolve_lock);
	struct lm_objset set;
	if (lm_objset_live(&set) != 0) {
		pthread_mutex_unlock(&lm_resolve_lock);
		return 1;
	}
	set.warn = warn_object;

	struct pending_hook *ph = calloc(lm_rt->nmethods + 1, sizeof *ph);
	struct lm_query *q = calloc(lm_rt->nmethods + 1, sizeof *q);
	uint32_t nph = 0, nq = 0;
	/* Every name at once: one pass over a .symtab serves them all. */
	for (uint32_t i = 0; q && i < lm_rt->nmethods; i++) {
		const struct lm_method *cm = lm_rt->methods[i].cfg;
		if (wanted(&lm_rt->methods[i]))
			q[nq++] = (struct lm_query){
			    .name = cm->name, .version = cm->version, .object = cm->object};
	}
	if (q)
		lm_symtab_find_all(&set, q, nq);
	/* The reach of short functions before the maps are held: it may map
	 * their object's file into the gap the held reading offers the stubs. */
	for (uint32_t k = 0; q && k < nq; k++)
		if (q[k].status == LM_FIND_OK && q[k].sym.size < LM_PATCH_REACH)
			lm_symtab_reach(&q[k].sym);
	/* Each hook asks the protection of its pages; every change is undone
	 * before the next question, so one reading of the maps serves all. */
	if (nq)
		lm_maps_hold();
	for (uint32_t i = 0, k = 0; ph && q && i < lm_rt->nmethods; i++) {
		struct lm_rt_method *m = &lm_rt->methods[i];
		if (!wanted(m))
			continue;
		int r = prepare_one(m, &q[k++], &set, at_startup, &ph[nph]);
		if (r > 0)
			nph++;
		else if (r < 0)
			problems++;
	}
	for (uint32_t k = 0; q && k < nq; k++)
		lm_symbol_free(&q[k].sym);
	free(q);
	lm_hook_install_begin();
	for (uint32_t i = 0; i < nph; i++) {
		char why[256] = "", at[LM_WHERE_MAX];
		struct lm_rt_method *m = ph[i].m;
		if (lm_hook_install(ph[i].hook, why, sizeof why) != 0) {
			m->state = LM_HS_FAILED;
			lm_warn("%s%s: not hooked: %s",
			        lm_method_where(&lm_rt->cfg, m->cfg, at, sizeof at), m->cfg->name,
			        why);
			problems++;
			continue;
		}
		m->state =
		    lm_hook_get_info(ph[i].hook)->mode == LM_HM_GOT ? LM_HS_GOT : LM_HS_DETOUR;
		__atomic_store_n(&m->hook, ph[i].hook, __ATOMIC_RELEASE);
	}
	lm_hook_install_end();
	/* after the batch: a GOT hook's slots are counted when patched */
	for (uint32_t i = 0; i < nph; i++)
		if (ph[i].m->state != LM_HS_FAILED)
			log_installed(ph[i].m);
	free(ph);
	lm_hook_rescan_got();
	lm_maps_release();
	lm_objset_free(&set);
	pthread_mutex_unlock(&lm_resolve_lock);
	return problems;
}
