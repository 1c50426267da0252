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

struct lm_qword lm_plan_quick_word(const struct lm_plan *p)
{
	struct lm_qword q = {LM_QW_NONE, 0, 0};
	if (p->nksteps != 1)
		return q;
	const struct lm_kstep *s = p->ksteps;
	if (s->loc.stack || s->loc.off + 8 > sizeof(uint64_t[6]))
		return q;
	uint64_t w;
	if (s->op == LM_KS_RAW)
		w = s->width;
	else if (s->op == LM_KS_BUF && p->params[s->param].size.kind == LM_SZ_LIT)
		w = p->params[s->param].size.lit;
	else
		return q;
	if (w != 1 && w != 2 && w != 4 && w != 8)
		return q;
	q.kind = s->op == LM_KS_RAW ? LM_QW_RAW : LM_QW_BUF;
	q.width = (uint8_t)w;
	q.off = (uint16_t)s->loc.off;
	return q;
}

bool lm_plan_quick_word_of(const struct lm_plan *p, const void *key, uint32_t klen, uint64_t *w)
{
	struct lm_qword q = lm_plan_quick_word(p);
	const unsigned char *k = key;
	uint32_t n;
	/* RAW: the integer's bytes; BUF: tag 1, length, bytes (lm_plan_key) */
	if (q.kind == LM_QW_RAW && klen == q.width) {
		n = 0;
	} else if (q.kind == LM_QW_BUF && klen == 5u + q.width && k[0] == 1) {
		__builtin_memcpy(&n, k + 1, 4);
		if (n != q.width)
			return false;
		n = 5;
	} else {
		return false;
	}
	*w = 0;
	for (uint32_t i = 0; i < q.width; i++)
		*w |= (uint64_t)k[n + i] << (8 * i);
	return true;
}

void *lm_plan_static_reuse(const struct lm_plan *p, uint64_t gen)
{
	return lm_plan_static_restore(p->id, gen);
}

/* lm_plan_quick_key's and lm_plan_quick_replay's shapes: every key
 * argument an integer, out tag or str in an argument register; the result
 * an integer (or void) with out params of literal sizes in argument
 * registers (`int u(i64 id, out(64) buf)`). */
bool lm_plan_quick_front(const struct lm_plan *p)
{
	if (p->ret.how != LM_RET_VALUE || p->ret_float)
		return false;
	for (size_t i = 0; i < p->nksteps; i++) {
		const struct lm_kstep *s = &p->ksteps[i];
		if (s->op == LM_KS_BUF || s->loc.stack || s->loc.off + 8 > sizeof(uint64_t[6]))
			return false;
	}
	for (size_t i = 0; i < p->nouts; i++) {
		const struct lm_pparam *q = &p->params[p->outs[i]];
		if (q->size.kind != LM_SZ_LIT || q->loc.stack ||
		    q->loc.off + 8 > sizeof(uint64_t[6]))
			return false;
	}
	return true;
}

/* A key built a word at a time: whole words are stored once, aligned,
 * and read back the same way. Byte stores read back as words would stall
 * on store forwarding (half the quick hit's time in a first version). */
struct pack {
	uint64_t *w;
	uint32_t len; /* bytes so far; the last (len % 8) are in acc */
	uint64_t acc;
};

/* Append the N (1 to 8) low bytes of V, which is zero above them. */
static inline void put(struct pack *k, uint64_t v, uint32_t n)
{
	uint32_t r = k->len & 7;
	k->acc |= v << (8 * r);
	if (r + n >= 8) {
		k->w[k->len / 8] = k->acc;
		k->acc = r ? v >> (64 - 8 * r) : 0;
	}
	k->len += n;
}

/* Or the bytes of V into the key at byte AT, already appended: one word
 * or two, each stored or still in acc. */
static void patch_u32(struct pack *k, uint32_t at, uint32_t v)
{
	uint32_t i = at / 8, r = at & 7, last = k->len / 8;
	uint64_t lo = (uint64_t)v << (8 * r), hi = r > 4 ? (uint64_t)v >> (8 * (8 - r)) : 0;
	if (i < last)
		k->w[i] |= lo;
	else
		k->acc |= lo;
	if (i + 1 < last)
		k->w[i + 1] |= hi;
	else
		k->acc |= hi;
}

/* Append the NUL-terminated S: its length, or -1 beyond MAX. Loads are
 * aligned words, so none reaches into a page the string does not (the
 * bytes past the NUL it reads are in the string's last word; hence no
 * address sanitizing). */
__attribute__((no_sanitize_address)) static int64_t put_str(struct pack *k, const char *s,
                                                            uint32_t max)
{
	const uint64_t lo = 0x0101010101010101ull, hi = 0x8080808080808080ull;
	uint32_t skip = (uint32_t)((uintptr_t)s & 7), avail = 8 - skip, n = 0;
	const char *a = s - skip;
	uint64_t x;
	__builtin_memcpy(&x, a, 8);
	x >>= 8 * skip;
	for (;;) {
		/* the lowest flagged byte is the first NUL; bytes shifted in
		 * above AVAIL are zero, but flagged only above a real one */
		uint64_t z = (x - lo) & ~x & hi;
		if (avail < 8)
			z &= (1ull << (8 * avail)) - 1;
		uint32_t take = z ? (uint32_t)__builtin_ctzll(z) / 8 : avail;
		if (n + take > max)
			return -1;
		if (take)
			put(k, take < 8 ? x & ((1ull << (8 * take)) - 1) : x, take);
		n += take;
		if (z)
			return n;
		a += 8;
		__builtin_memcpy(&x, a, 8);
		avail = 8;
	}
}

int64_t lm_plan_quick_key(const struct lm_plan *p, const struct lm_frame *f, uint64_t *w,
                          uint32_t nwords)
{
	struct pack k = {w, 0, 0};
	const uint32_t cap = 8 * nwords - 8;
	for (size_t i = 0; i < p->nksteps; i++) {
		const struct lm_kstep *s = &p->ksteps[i];
		uint64_t v = lm_loc_read(f, &s->loc);
		if (k.len + 13 > cap)
			return -1;
		switch (s->op) {
		case LM_KS_RAW:
			put(&k, s->width < 8 ? v & ((1ull << (8 * s->width)) - 1) : v, s->width);
			break;
		case LM_KS_OUT:
			put(&k, v != 0, 1);
			break;
		default: /* LM_KS_STR (lm_plan_quick_front) */
			put(&k, v != 0, 1);
			if (!v)
				break;
			uint32_t at = k.len;
			put(&k, 0, 4);
			int64_t n = put_str(&k, lm_word_ptr(v), cap - k.len);
			if (n < 0)
				return -1;
			patch_u32(&k, at, (uint32_t)n);
		}
	}
	if (k.len & 7)
		w[k.len / 8] = k.acc;
	return k.len;
}

/* N bytes from S to D, a word at a time (libc's memcpy uses vector
 * registers); N >= 8 overlaps the last word, a shorter one goes bytewise. */
static void copy_bytes(unsigned char *d, const unsigned char *s, uint32_t n)
{
	uint64_t w;
	if (n < 8) {
		for (uint32_t i = 0; i < n; i++)
			d[i] = s[i];
		return;
	}
	for (uint32_t i = 0; i + 8 <= n; i += 8) {
		__builtin_memcpy(&w, s + i, 8);
		__builtin_memcpy(d + i, &w, 8);
	}
	__builtin_memcpy(&w, s + n - 8, 8);
	__builtin_memcpy(d + n - 8, &w, 8);
}

int lm_plan_quick_replay(const struct lm_plan *p, const void *val, uint32_t len, struct lm_frame *f,
                         int *err)
{
	const unsigned char *v = val;
	bool word = p->ret.kind != LM_K_VOID;
	uint32_t pos = 0, n;
	int32_t e = 0;
	uint64_t rax = f->ret_rax;
	/* a scalar result's errno is there only when not 0 (value.c) */
	if (p->nouts || len == (word ? 12u : 4u)) {
		if (len < 4)
			return -1;
		__builtin_memcpy(&e, v, 4);
		pos = 4;
	}
	if (word) {
		if (len - pos < 8)
			return -1;
		__builtin_memcpy(&rax, v + pos, 8);
		pos += 8;
	}
	/* every out checked before any is written: a bad blob leaves the
	 * caller's buffers alone */
	uint32_t start = pos;
	for (size_t i = 0; i < p->nouts; i++) {
		const struct lm_pparam *q = &p->params[p->outs[i]];
		bool present = lm_loc_read(f, &q->loc) != 0;
		if (pos >= len || v[pos] != present)
			return -1;
		pos++;
		if (!present)
			continue;
		if (len - pos < 4)
			return -1;
		__builtin_memcpy(&n, v + pos, 4);
		if (n != q->size.lit || len - pos - 4 < n)
			return -1;
		pos += 4 + n;
	}
	if (pos != len)
		return -1;
	for (size_t i = 0; i < p->nouts; i++) {
		unsigned char *d = lm_word_ptr(lm_loc_read(f, &p->params[p->outs[i]].loc));
		if (!d) {
			start++;
			continue;
		}
		__builtin_memcpy(&n, v + start + 1, 4);
		copy_bytes(d, v + start + 5, n);
		start += 5 + n;
	}
	f->ret_rax = rax;
	*err = e;
	return 0;
}
