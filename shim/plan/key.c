/* Keys: the call's key arguments as bytes, and their rendering for logs.
 *
 * Encoding, one item per key step in parameter order: an integer, float or
 * ptr as its own width in little-endian bytes; an out param as one byte
 * (0 NULL, 1 not); a str as tag 0 (NULL) or tag 1, a u32 length and the
 * bytes; a buf the same. Every item is self-delimiting given the plan, so
 * equal keys mean equal arguments. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plan_internal.h"
#include "shim/base/guard.h"

/* A str or buf argument: reads the caller's memory, which the program
 * passed and so is valid. */
static int key_var(const struct lm_plan *p, const struct lm_kstep *s, uint64_t v,
                   const struct lm_frame *f, struct lm_buf *out)
{
	const void *q = lm_word_ptr(v);
	int64_t n;

	if (!q) {
		out->p[out->len++] = 0;
		return 0;
	}
	if (s->op == LM_KS_STR)
		n = (int64_t)strlen(q);
	else if ((n = lm_size_at(p, &p->params[s->param].size, f)) < 0)
		return -1;
	return lm_buf_put_blob(out, q, (size_t)n);
}

int lm_plan_key(const struct lm_plan *p, const struct lm_frame *f, struct lm_buf *out)
{
	const struct lm_kstep *s = p->ksteps, *e = s + p->nksteps;
	size_t start = out->len;

	/* The fixed part plus 8 so that RAW steps store a whole word. */
	if (lm_buf_reserve(out, p->key_fixed + 8) < 0)
		return -1;
	for (; s < e; s++) {
		uint64_t v = lm_loc_read(f, &s->loc);

		if (lm_likely(s->op == LM_KS_RAW)) {
			memcpy(out->p + out->len, &v, 8);
			out->len += s->width;
		} else if (s->op == LM_KS_OUT) {
			out->p[out->len++] = v != 0;
		} else if (key_var(p, s, v, f, out) < 0 ||
		           lm_buf_reserve(out, p->key_fixed + 8) < 0) {
			out->len = start;
			return -1;
		}
	}
	return 0;
}

/* One step of the call in F against the encoded key at R (advanced past
 * it): without building the call's key. */
static bool step_equals(const struct lm_plan *p, const struct lm_kstep *s, const struct lm_frame *f,
                        struct lm_rd *r)
{
	uint64_t v = lm_loc_read(f, &s->loc);
	const unsigned char *b;
	const void *q = lm_word_ptr(v);
	uint8_t tag;
	uint32_t n;
	int64_t want;

	switch (s->op) {
	case LM_KS_RAW:
		if (!lm_rd_bytes(r, s->width, &b))
			return false;
		/* the argument's low WIDTH bytes, as lm_plan_key stores them */
		uint64_t w = 0;
		switch (s->width) {
		case 1:
			w = b[0];
			break;
		case 2:
			memcpy(&w, b, 2);
			break;
		case 4:
			memcpy(&w, b, 4);
			break;
		default:
			memcpy(&w, b, 8);
			break;
		}
		return w == lm_int_extend(v, s->width, false);
	case LM_KS_OUT:
		return lm_rd_u8(r, &tag) && tag == (v != 0);
	default:
		if (!lm_rd_u8(r, &tag) || tag != (q != NULL))
			return false;
		if (!q)
			return true;
		if (!lm_rd_u32(r, &n) || !lm_rd_bytes(r, n, &b))
			return false;
		/* A str compares without reading past its NUL: it equals N
		 * stored bytes (which hold no NUL) iff its byte N is the NUL. */
		if (s->op == LM_KS_STR)
			return strncmp(q, (const char *)b, n) == 0 && ((const char *)q)[n] == '\0';
		want = lm_size_at(p, &p->params[s->param].size, f);
		return want == (int64_t)n && memcmp(q, b, n) == 0;
	}
}

bool lm_plan_key_equals(const struct lm_plan *p, const struct lm_frame *f, const void *key,
                        uint32_t klen)
{
	struct lm_rd r = {key, klen};

	/* The common shapes, one integer or one str, without the reader. */
	if (p->nksteps == 1 && !p->ksteps[0].loc.stack) {
		const struct lm_kstep *s = p->ksteps;
		uint64_t v = lm_loc_read(f, &s->loc);
		const unsigned char *k = key;

		if (s->op == LM_KS_RAW && s->width == 4 && klen == 4) {
			uint32_t w;
			memcpy(&w, k, 4);
			return w == (uint32_t)v;
		}
		if (s->op == LM_KS_RAW && s->width == 8 && klen == 8) {
			uint64_t w;
			memcpy(&w, k, 8);
			return w == v;
		}
		if (s->op == LM_KS_STR && v && klen >= 5 && k[0] == 1) {
			uint32_t n;
			memcpy(&n, k + 1, 4);
			return n == klen - 5 &&
			       strncmp(lm_word_ptr(v), (const char *)k + 5, n) == 0 &&
			       ((const char *)lm_word_ptr(v))[n] == '\0';
		}
	}
	for (size_t i = 0; i < p->nksteps; i++)
		if (!step_equals(p, &p->ksteps[i], f, &r))
			return false;
	return r.n == 0;
}

int lm_plan_register_key(const struct lm_plan *p, uint32_t off[2], uint8_t width[2])
{
	if (p->nksteps > 2)
		return -1;
	for (size_t i = 0; i < p->nksteps; i++) {
		const struct lm_kstep *s = &p->ksteps[i];
		if (s->op != LM_KS_RAW || s->loc.stack)
			return -1;
		off[i] = s->loc.off;
		width[i] = s->width;
	}
	return (int)p->nksteps;
}

enum lm_scalar lm_plan_register_str(const struct lm_plan *p, uint32_t *off)
{
	if (p->nksteps != 1 || p->ksteps[0].op != LM_KS_STR || p->ksteps[0].loc.stack)
		return LM_SCALAR_NO;
	*off = p->ksteps[0].loc.off;
	return lm_plan_scalar(p);
}

enum lm_scalar lm_plan_register_out(const struct lm_plan *p, uint32_t *key_off, uint8_t *key_width,
                                    uint32_t *out_off, uint32_t *out_len)
{
	if (p->ret.how != LM_RET_VALUE || p->ret_float || p->nouts != 1 || p->nksteps != 2)
		return LM_SCALAR_NO;
	const struct lm_kstep *k = &p->ksteps[0], *o = &p->ksteps[1];
	const struct lm_pparam *q = &p->params[p->outs[0]];
	if (k->op != LM_KS_RAW || k->loc.stack || o->op != LM_KS_OUT || o->param != p->outs[0] ||
	    o->loc.stack || q->size.kind != LM_SZ_LIT || q->size.lit < 8 ||
	    q->size.lit > LM_PLAN_FAST_OUT_MAX || q->size.lit % 8)
		return LM_SCALAR_NO;
	*key_off = k->loc.off;
	*key_width = k->width;
	*out_off = o->loc.off;
	*out_len = (uint32_t)q->size.lit;
	return p->ret.kind == LM_K_VOID ? LM_SCALAR_VOID : LM_SCALAR_INT;
}

bool lm_key_step_skip(const struct lm_kstep *s, struct lm_rd *r)
{
	const unsigned char *b;
	uint8_t tag;
	uint32_t n;

	switch (s->op) {
	case LM_KS_RAW:
		return lm_rd_bytes(r, s->width, &b);
	case LM_KS_OUT:
		return lm_rd_u8(r, &tag) && tag <= 1;
	default:
		if (!lm_rd_u8(r, &tag) || tag > 1)
			return false;
		return tag == 0 || (lm_rd_u32(r, &n) && lm_rd_bytes(r, n, &b));
	}
}

/* ---- describe --------------------------------------------------------- */

struct lm_out {
	char *buf;
	size_t len, pos;
};

static void put(struct lm_out *o, const char *s, size_t n)
{
	while (n-- && o->pos + 1 < o->len)
		o->buf[o->pos++] = *s++;
}

static void putf(struct lm_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void putf(struct lm_out *o, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

#define DESCRIBE_MAX_STR 32

static void describe_str(struct lm_out *o, const unsigned char *s, uint32_t n, bool is_buf)
{
	uint32_t i, shown = n < DESCRIBE_MAX_STR ? n : DESCRIBE_MAX_STR;

	if (is_buf) {
		put(o, "<", 1);
		for (i = 0; i < shown && i < DESCRIBE_MAX_STR / 2; i++)
			putf(o, "%02x", s[i]);
		put(o, i < n ? "...>" : ">", i < n ? 4 : 1);
		return;
	}
	put(o, "\"", 1);
	for (i = 0; i < shown; i++) {
		unsigned char c = s[i];

		if (c == '"' || c == '\\')
			putf(o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			putf(o, "\\x%02x", c);
		else
			put(o, (const char *)&c, 1);
	}
	put(o, i < n ? "\"..." : "\"", i < n ? 4 : 1);
}

static bool describe_step(struct lm_out *o, const struct lm_plan *p, const struct lm_kstep *s,
                          struct lm_rd *r)
{
	enum lm_kind k = p->params[s->param].kind;
	const unsigned char *b;
	uint64_t v = 0;
	uint32_t n;
	uint8_t tag;

	if (s->op == LM_KS_OUT) {
		if (!lm_rd_u8(r, &tag) || tag > 1)
			return false;
		put(o, tag ? "out" : "NULL", tag ? 3 : 4);
		return true;
	}
	if (s->op != LM_KS_RAW) {
		if (!lm_rd_u8(r, &tag) || tag > 1)
			return false;
		if (!tag) {
			put(o, "NULL", 4);
			return true;
		}
		if (!lm_rd_u32(r, &n) || !lm_rd_bytes(r, n, &b))
			return false;
		describe_str(o, b, n, s->op == LM_KS_BUF);
		return true;
	}
	if (!lm_rd_bytes(r, s->width, &b))
		return false;
	memcpy(&v, b, s->width);
	if (k == LM_K_F32) {
		float x;

		memcpy(&x, b, 4);
		putf(o, "%g", (double)x);
	} else if (k == LM_K_F64) {
		double x;

		memcpy(&x, b, 8);
		putf(o, "%g", x);
	} else if (k == LM_K_PTR) {
		if (v)
			putf(o, "0x%" PRIx64, v);
		else
			put(o, "NULL", 4);
	} else if (k == LM_K_BOOL) {
		put(o, v ? "true" : "false", v ? 4 : 5);
	} else if (lm_kind_is_signed(k)) {
		putf(o, "%" PRId64, (int64_t)lm_int_extend(v, s->width, true));
	} else {
		putf(o, "%" PRIu64, v);
	}
	return true;
}

size_t lm_plan_key_describe(const struct lm_plan *p, const void *key, size_t klen, char *buf,
                            size_t len)
{
	struct lm_out o = {buf, len, 0};
	struct lm_rd r = {key, klen};
	size_t i, step = 0;
	LM_KEEP_ERRNO();

	if (!len)
		return 0;
	put(&o, p->name, strlen(p->name));
	put(&o, "(", 1);
	for (i = 0; i < p->nparams; i++) {
		if (i)
			put(&o, ", ", 2);
		if (p->params[i].kind == LM_K_IGNORE) {
			put(&o, "_", 1);
			continue;
		}
		if (step >= p->nksteps || !describe_step(&o, p, &p->ksteps[step++], &r)) {
			put(&o, "<malformed>", 11);
			break;
		}
	}
	put(&o, ")", 1);
	buf[o.pos] = '\0';
	return o.pos;
}
