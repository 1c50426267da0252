/* Guards against a signature that cannot be right.
 *
 * A `ptr` result is handed back as the same address on a hit, which is
 * right for interned data and wrong for a static buffer the next call
 * overwrites (getpwuid declared `ptr`). The sign of a static buffer: the
 * same address for two different keys. Checked on misses only. */
#include <errno.h>

#include "shim/base/guard.h"
#include "shim/base/log.h"
#include "sig_guard.h"

/* The last result and its key, in one word so that threads racing on it
 * never pair one call's address with another's key: the address's low 48
 * bits (user space) and 16 bits of the key's hash. Two different keys
 * with equal hash bits go unseen once in 65536; the next pair is seen. */
static uint64_t pack(uint64_t hash, uint64_t ret)
{
	return (ret & ((1ull << 48) - 1)) | (hash >> 48 << 48);
}

bool lm_ptr_guarded(const struct lm_rt_method *m)
{
	const struct lm_ret *r = &m->cfg->sig.ret;

	return r->how == LM_RET_VALUE && r->kind == LM_K_PTR;
}

bool lm_ptr_repeats(struct lm_rt_method *m, uint64_t hash, uint64_t ret)
{
	if (!ret)
		return false;
	uint64_t now = pack(hash, ret);
	uint64_t before = __atomic_exchange_n(&m->last_ptr, now, __ATOMIC_RELAXED);
	return before != now && (before & ((1ull << 48) - 1)) == (now & ((1ull << 48) - 1));
}

void lm_ptr_static(struct lm_rt_method *m, const char *what)
{
	if (__atomic_exchange_n(&m->ptr_static, true, __ATOMIC_RELAXED))
		return;
	lm_warn("%s:%d: %s: %s returned the same address for two different keys: it is a "
	        "buffer the function reuses, not a pointer whose identity is the result; "
	        "%s (declare the result `static str`, `static TYPE*` or `static buf(SIZE)`)",
	        lm_rt->cfg.file ? lm_rt->cfg.file : "config", m->cfg->pos.line, m->cfg->name,
	        m->cfg->name, what);
}

int lm_arg_guard(struct lm_rt_method *m, const struct lm_frame *f)
{
	const char *why;

	if (__atomic_load_n(&m->bad_args, __ATOMIC_RELAXED))
		return -1;
	LM_KEEP_ERRNO(); /* the checks make system calls */
	int i = lm_plan_bad_pointer(m->plan, f, &why);
	if (i < 0) {
		/* Racing threads may count one check twice: harmless. */
		uint32_t n = __atomic_load_n(&m->arg_checks, __ATOMIC_RELAXED);
		if (n)
			__atomic_store_n(&m->arg_checks, n - 1, __ATOMIC_RELAXED);
		return 0;
	}
	if (__atomic_exchange_n(&m->bad_args, true, __ATOMIC_RELAXED))
		return -1;
	const struct lm_param *p = &m->cfg->sig.params[i];
	lm_warn("%s:%d: %s: parameter %d%s%s%s is declared %s, but the argument is %s: the "
	        "signature cannot be right; %s runs uncached",
	        lm_rt->cfg.file ? lm_rt->cfg.file : "config",
	        p->pos.line ? p->pos.line : m->cfg->pos.line, m->cfg->name, i + 1,
	        p->name ? " '" : "", p->name ? p->name : "", p->name ? "'" : "",
	        lm_kind_name(p->kind), why, m->cfg->name);
	return -1;
}
