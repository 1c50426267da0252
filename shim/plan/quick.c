/* The parts of a static result's reuse check (reuse.h) that lm_thunk's
 * quick path runs before it saves the caller's vector registers
 * (shim/call/quick.c): built with -mgeneral-regs-only (Makefile), and
 * calling nothing, since libc's string functions use vector registers. */
#include "plan_internal.h"

/* The NULL-or-content steps: the tag, then for content its length. */
static int tagged(const unsigned char *k, uint32_t klen, uint64_t v, uint32_t *n)
{
	if (!v)
		return klen == 1 && k[0] == 0 ? 1 : 0;
	if (klen < 5 || k[0] != 1)
		return 0;
	__builtin_memcpy(n, k + 1, 4);
	return *n == klen - 5 ? 2 : 0;
}

int lm_plan_quick_key_equals(const struct lm_plan *p, const struct lm_frame *f, const void *key,
                             uint32_t klen)
{
	if (p->nksteps != 1)
		return -1;
	const struct lm_kstep *s = p->ksteps;
	/* the argument registers only: the vector ones are not saved yet */
	if (s->loc.stack || s->loc.off + 8 > sizeof f->gpr)
		return -1;
	uint64_t v = lm_loc_read(f, &s->loc), w = 0;
	const unsigned char *k = key;
	uint32_t n;
	int t;
	switch (s->op) {
	case LM_KS_RAW:
		if (klen != s->width)
			return 0;
		/* constant sizes: a variable one would be a call of memcpy */
		switch (s->width) {
		case 1:
			w = k[0];
			break;
		case 2:
			__builtin_memcpy(&w, k, 2);
			break;
		case 4:
			__builtin_memcpy(&w, k, 4);
			break;
		case 8:
			__builtin_memcpy(&w, k, 8);
			break;
		default:
			return -1;
		}
		return w == lm_int_extend(v, s->width, false);
	case LM_KS_STR:
		if ((t = tagged(k, klen, v, &n)) != 2)
			return t;
		/* never read past the caller's NUL: its byte N must be it */
		const char *str = lm_word_ptr(v);
		for (uint32_t i = 0; i < n; i++)
			if (str[i] != (char)k[5 + i])
				return 0;
		return str[n] == '\0';
	case LM_KS_BUF:
		if (p->params[s->param].size.kind != LM_SZ_LIT)
			return -1;
		if ((t = tagged(k, klen, v, &n)) != 2)
			return t;
		return n == p->params[s->param].size.lit && lm_same_bytes(lm_word_ptr(v), k + 5, n);
	default:
		return -1;
	}
}

void *lm_plan_static_reuse(const struct lm_plan *p, uint64_t gen)
{
	return lm_static_intact(p->id, gen);
}
