/* Value blobs: a result captured after a miss, replayed on a hit.
 *
 * Layout: i32 errno (for a scalar result without out params, lm_plan_scalar,
 * only when it is not 0: most functions leave it so, and most cached
 * results are such); then by return form
 *   value (not void)       u64 register (rax, or xmm0's low 8 bytes)
 *   str/buf (static or not) tag 0 (NULL) | tag 1, u32 length, bytes
 *   ptr(NAME)              tag 0 (NULL) | tag 1 (NAME's pointer)
 *   static TYPE*           tag 0 (NULL) | tag 1, the flattened struct
 * then per out param, in order: tag 0 (NULL pointer) | tag 1, u32 length,
 * bytes. Everything after the register is canonical (no raw pointers, no
 * padding), so verify mode compares it byte for byte. Blobs may come from
 * a file or another host: replay trusts no length. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "plan_internal.h"
#include "shim/base/guard.h"

static bool ret_has_word(const struct lm_plan *p)
{
	return p->ret.how == LM_RET_VALUE && p->ret.kind != LM_K_VOID;
}

/* out(ret): the byte count the return value names; -1 above the cap. */
static int64_t ret_count(const struct lm_plan *p, uint64_t word)
{
	uint64_t v = lm_int_extend(word, p->ret_width, p->ret_signed);

	if (p->ret_signed && (int64_t)v < 0)
		return 0;
	return v <= LM_PLAN_MAX_BYTES ? (int64_t)v : -1;
}

static int capture_ret(const struct lm_plan *p, const struct lm_frame *f, struct lm_buf *out)
{
	const void *r = lm_word_ptr(f->ret_rax);
	unsigned char tag = r != NULL;
	int64_t n;

	switch (p->ret.how) {
	case LM_RET_VALUE:
		if (p->ret.kind == LM_K_VOID)
			return 0;
		return lm_buf_append(out, p->ret_float ? &f->ret_xmm0[0] : &f->ret_rax, 8);
	case LM_RET_STR:
	case LM_RET_STATIC_STR:
		return r ? lm_buf_put_blob(out, r, strlen(r)) : lm_buf_append(out, &tag, 1);
	case LM_RET_BUF:
	case LM_RET_STATIC_BUF:
		if (!r)
			return lm_buf_append(out, &tag, 1);
		if ((n = lm_size_at(p, &p->ret_size, f)) < 0)
			return -1;
		return lm_buf_put_blob(out, r, (size_t)n);
	case LM_RET_PARAM:
		/* Any other pointer (realpath's malloc'd result) cannot be replayed. */
		if (r && f->ret_rax != lm_loc_read(f, &p->ret_param_loc))
			return -1;
		return lm_buf_append(out, &tag, 1);
	case LM_RET_STATIC_TYPE:
		if (lm_buf_append(out, &tag, 1) < 0)
			return -1;
		return r ? lm_deep_flatten(p, p->ret.type, r, out) : 0;
	}
	return -1;
}

static int capture_out(const struct lm_plan *p, const struct lm_pparam *q, const struct lm_frame *f,
                       struct lm_buf *out)
{
	const char *d = lm_word_ptr(lm_loc_read(f, &q->loc));
	unsigned char tag = 0;
	int64_t n;

	if (!d)
		return lm_buf_append(out, &tag, 1);
	switch (q->size.kind) {
	case LM_SZ_RET:
		n = ret_count(p, f->ret_rax);
		break;
	case LM_SZ_STR:
		n = (int64_t)strlen(d) + 1;
		break;
	default:
		n = lm_size_at(p, &q->size, f);
		break;
	}
	if (n < 0)
		return -1;
	return lm_buf_put_blob(out, d, (size_t)n);
}

/* Does a blob of LEN bytes for P start with errno? */
static bool has_errno(const struct lm_plan *p, size_t len)
{
	return lm_plan_scalar(p) == LM_SCALAR_NO || len == 4 + (ret_has_word(p) ? 8u : 0u);
}

int lm_plan_capture(const struct lm_plan *p, const struct lm_frame *f, int err, struct lm_buf *out)
{
	size_t i, start = out->len;
	int32_t e = err;

	if (((e != 0 || lm_plan_scalar(p) == LM_SCALAR_NO) && lm_buf_append(out, &e, 4) < 0) ||
	    capture_ret(p, f, out) < 0)
		goto fail;
	for (i = 0; i < p->nouts; i++)
		if (capture_out(p, &p->params[p->outs[i]], f, out) < 0)
			goto fail;
	return 0;
fail:
	out->len = start;
	return -1;
}

/* ---- parsing ------------------------------------------------------------ */

struct lm_vview {
	int32_t err;
	uint64_t word;
	uint8_t tag;               /* the return's NULL-ness */
	const unsigned char *data; /* str/buf bytes, or the flattened struct */
	uint32_t dlen;
	size_t need;               /* static TYPE*: arena bytes */
	const unsigned char *rest; /* everything after the register */
	size_t restlen;
	const unsigned char *outs;
	size_t outslen;
};

static bool parse_tagged(struct lm_rd *r, uint8_t *tag, const unsigned char **d, uint32_t *n)
{
	*n = 0;
	*d = NULL;
	if (!lm_rd_u8(r, tag) || *tag > 1)
		return false;
	return *tag == 0 || (lm_rd_u32(r, n) && lm_rd_bytes(r, *n, d));
}

static bool parse_ret(const struct lm_plan *p, struct lm_rd *r, struct lm_vview *v)
{
	struct lm_rd sub;

	switch (p->ret.how) {
	case LM_RET_VALUE:
		return true; /* the register was read before */
	case LM_RET_STR:
	case LM_RET_STATIC_STR:
		return parse_tagged(r, &v->tag, &v->data, &v->dlen) &&
		       (!v->data || !memchr(v->data, '\0', v->dlen));
	case LM_RET_BUF:
	case LM_RET_STATIC_BUF:
		if (!parse_tagged(r, &v->tag, &v->data, &v->dlen))
			return false;
		return !v->tag || p->ret_size.kind != LM_SZ_LIT || v->dlen == p->ret_size.lit;
	case LM_RET_PARAM:
		return lm_rd_u8(r, &v->tag) && v->tag <= 1;
	case LM_RET_STATIC_TYPE:
		if (!lm_rd_u8(r, &v->tag) || v->tag > 1)
			return false;
		if (!v->tag)
			return true;
		sub = *r;
		v->data = r->p;
		if (lm_deep_rebuild(p, p->ret.type, r, NULL, &v->need) < 0)
			return false;
		v->dlen = (uint32_t)(sub.n - r->n);
		return true;
	}
	return false;
}

/* The out section, checked against what the plan knows without a call. */
static bool parse_outs(const struct lm_plan *p, struct lm_rd *r, const struct lm_vview *v)
{
	const unsigned char *d;
	uint32_t n;
	uint8_t tag;
	size_t i;

	for (i = 0; i < p->nouts; i++) {
		const struct lm_psize *s = &p->params[p->outs[i]].size;

		if (!parse_tagged(r, &tag, &d, &n))
			return false;
		if (!tag)
			continue;
		if (s->kind == LM_SZ_LIT && n != s->lit)
			return false;
		if (s->kind == LM_SZ_RET && (int64_t)n != ret_count(p, v->word))
			return false;
		if (s->kind == LM_SZ_STR && (n == 0 || memchr(d, '\0', n) != d + n - 1))
			return false;
		if (n > LM_PLAN_MAX_BYTES && s->kind != LM_SZ_STR)
			return false;
	}
	return true;
}

static bool parse(const struct lm_plan *p, const void *val, size_t len, struct lm_vview *v)
{
	struct lm_rd r = {val, len};

	memset(v, 0, sizeof(*v));
	if (!val || (has_errno(p, len) && !lm_rd_u32(&r, (uint32_t *)&v->err)))
		return false;
	if (ret_has_word(p) && !lm_rd_u64(&r, &v->word))
		return false;
	v->rest = r.p;
	v->restlen = r.n;
	if (!parse_ret(p, &r, v))
		return false;
	v->outs = r.p;
	v->outslen = r.n;
	return parse_outs(p, &r, v) && r.n == 0;
}

/* ---- replay ------------------------------------------------------------- */

/* The outs against the current call: a pointer NULL where the stored one
 * was not (or the reverse), or a size that differs, means the blob is not
 * for this call. */
static bool outs_fit(const struct lm_plan *p, const struct lm_vview *v, const struct lm_frame *f)
{
	struct lm_rd r = {v->outs, v->outslen};
	const unsigned char *d;
	uint32_t n;
	uint8_t tag;
	size_t i;

	for (i = 0; i < p->nouts; i++) {
		const struct lm_pparam *q = &p->params[p->outs[i]];
		bool present = lm_loc_read(f, &q->loc) != 0;

		if (!parse_tagged(&r, &tag, &d, &n) || tag != present)
			return false;
		if (tag && q->size.kind == LM_SZ_PARAM && lm_size_at(p, &q->size, f) != (int64_t)n)
			return false;
	}
	return true;
}

static void outs_write(const struct lm_plan *p, const struct lm_vview *v, const struct lm_frame *f)
{
	struct lm_rd r = {v->outs, v->outslen};
	const unsigned char *d;
	uint32_t n;
	uint8_t tag;
	size_t i;

	for (i = 0; i < p->nouts; i++) {
		void *dst = lm_word_ptr(lm_loc_read(f, &p->params[p->outs[i]].loc));

		/* Checked by parse and outs_fit: every tag 1 has a pointer. */
		if (parse_tagged(&r, &tag, &d, &n) && tag && n && dst)
			memcpy(dst, d, n);
	}
}

static void *fresh_copy(const void *d, size_t n, bool nul)
{
	size_t sz = n + nul;
	LM_KEEP_ERRNO();
	/* The program's own malloc: its free will get this pointer. */
	unsigned char *c = malloc(sz ? sz : 1);

	if (!c)
		return NULL;
	if (n)
		memcpy(c, d, n);
	if (nul)
		c[n] = '\0';
	return c;
}

static void *static_copy(const struct lm_plan *p, const void *d, size_t n, bool nul)
{
	unsigned char *c = lm_static_buf(p->id, n + nul);

	if (!c)
		return NULL;
	if (n)
		memcpy(c, d, n);
	if (nul)
		c[n] = '\0';
	lm_static_built(p->id, n + nul);
	return c;
}

/* The pointer the hit returns, built before anything is written through
 * the caller's pointers so that a failure leaves them untouched. */
static int replay_ret(const struct lm_plan *p, const struct lm_vview *v, const struct lm_frame *f,
                      uint64_t *rax)
{
	struct lm_rd r = {v->data, v->dlen};
	size_t need = v->need;
	void *c = NULL;

	*rax = 0;
	if (!v->tag)
		return 0;
	switch (p->ret.how) {
	case LM_RET_VALUE:
		return 0;
	case LM_RET_STR:
		c = fresh_copy(v->data, v->dlen, true);
		break;
	case LM_RET_BUF:
		if (p->ret_size.kind == LM_SZ_PARAM && lm_size_at(p, &p->ret_size, f) != v->dlen)
			return -1;
		c = fresh_copy(v->data, v->dlen, false);
		break;
	case LM_RET_STATIC_STR:
		c = static_copy(p, v->data, v->dlen, true);
		break;
	case LM_RET_STATIC_BUF:
		if (p->ret_size.kind == LM_SZ_PARAM && lm_size_at(p, &p->ret_size, f) != v->dlen)
			return -1;
		c = static_copy(p, v->data, v->dlen, false);
		break;
	case LM_RET_PARAM:
		*rax = lm_loc_read(f, &p->ret_param_loc);
		return 0;
	case LM_RET_STATIC_TYPE:
		c = lm_static_buf(p->id, need);
		if (c && lm_deep_rebuild(p, p->ret.type, &r, c, &need) < 0)
			c = NULL;
		if (c)
			lm_static_built(p->id, need);
		break;
	}
	if (!c)
		return -1;
	*rax = (uint64_t)(uintptr_t)c;
	return 0;
}

bool lm_plan_static_result(const struct lm_plan *p)
{
	/* A static buf sized by a parameter is checked against each call's
	 * size on replay: it always replays. */
	return !p->nouts && (p->ret.how == LM_RET_STATIC_STR || p->ret.how == LM_RET_STATIC_TYPE ||
	                     (p->ret.how == LM_RET_STATIC_BUF && p->ret_size.kind == LM_SZ_LIT));
}

uint64_t lm_plan_static_gen(const struct lm_plan *p)
{
	return lm_static_gen(p->id);
}

enum lm_scalar lm_plan_scalar(const struct lm_plan *p)
{
	if (p->ret.how != LM_RET_VALUE || p->nouts)
		return LM_SCALAR_NO;
	if (p->ret.kind == LM_K_VOID)
		return LM_SCALAR_VOID;
	return p->ret_float ? LM_SCALAR_FLOAT : LM_SCALAR_INT;
}

int lm_plan_replay(const struct lm_plan *p, const void *val, size_t len, struct lm_frame *f,
                   int *err)
{
	struct lm_vview v;
	uint64_t rax;

	enum lm_scalar k = lm_plan_scalar(p);
	if (k != LM_SCALAR_NO)
		return lm_scalar_replay(k, val, len, f, err);
	if (!parse(p, val, len, &v) || !outs_fit(p, &v, f) || replay_ret(p, &v, f, &rax) < 0)
		return -1;
	outs_write(p, &v, f);
	if (p->ret.how != LM_RET_VALUE) {
		f->ret_rax = rax;
	} else if (p->ret_float) {
		f->ret_xmm0[0] = v.word;
		f->ret_xmm0[1] = 0;
	} else {
		f->ret_rax = v.word;
	}
	*err = v.err;
	return 0;
}

bool lm_plan_same_value(const struct lm_plan *p, const void *a, size_t alen, const void *b,
                        size_t blen)
{
	struct lm_vview va, vb;

	if (!parse(p, a, alen, &va) || !parse(p, b, blen, &vb))
		return false;
	if (va.err != vb.err || va.restlen != vb.restlen)
		return false;
	/* Only the return type's own bytes: the rest of the register is junk. */
	if (ret_has_word(p) && lm_int_extend(va.word ^ vb.word, p->ret_width, false) != 0)
		return false;
	return memcmp(va.rest, vb.rest, va.restlen) == 0;
}
