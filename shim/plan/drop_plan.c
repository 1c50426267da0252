/* Drop plans (spec 3.5): from a call of a write function W to the keys of
 * a cached method T that the call invalidates.
 *
 * Each drop value is encoded exactly as lm_plan_key encodes T's key param
 * it stands for, after the C conversion a call of T with that value would
 * make (a W i64 for a T i32 keeps its low 4 bytes; a float converts to the
 * other width; any integer to bool is 0 or 1). With no `*` the keys are
 * enumerated (T's out params enter keys by NULL-ness: every combination);
 * otherwise, or when a value cannot be encoded at this call (a buf whose
 * size is out of range), the drop becomes a pattern, which may drop more
 * but never less.
 *
 * LM_DROP_METHOD and LM_DROP_ALL compile to a plan whose pattern matches
 * every key, so the dispatcher may treat all drops alike (T may be NULL for
 * LM_DROP_ALL).
 *
 * Pattern: per key step of T, 0 (any) or 1, u32 length, the item's bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_internal.h"
#include "shim/base/why.h"
#include "shim/base/guard.h"

struct lm_drop_plan {
	const struct lm_plan *w, *t;
	bool all;
	struct lm_dropval *vals; /* one per key step of T; ANY for out steps */
	size_t nvals;
};

static bool compatible(enum lm_kind tk, const struct lm_dropval *v, enum lm_kind wk)
{
	switch (v->kind) {
	case LM_DV_ANY:
		return true;
	case LM_DV_INT:
		return lm_kind_is_int(tk) || lm_kind_is_float(tk) || tk == LM_K_PTR;
	case LM_DV_FLOAT:
		return lm_kind_is_float(tk);
	case LM_DV_STR:
		return tk == LM_K_STR;
	case LM_DV_PARAM:
		if (lm_kind_is_int(tk))
			return lm_kind_is_int(wk);
		if (lm_kind_is_float(tk))
			return lm_kind_is_float(wk);
		return tk == wk && (tk == LM_K_PTR || tk == LM_K_STR || tk == LM_K_BUF);
	}
	return false;
}

void lm_drop_plan_free(struct lm_drop_plan *dp)
{
	LM_KEEP_ERRNO();
	size_t i;

	if (!dp)
		return;
	for (i = 0; i < dp->nvals; i++)
		free(dp->vals[i].sval);
	free(dp->vals);
	free(dp);
}

static int vals_compile(struct lm_drop_plan *dp, const struct lm_drop *d, char *why, size_t wl)
{
	const struct lm_plan *t = dp->t, *w = dp->w;
	size_t j, i = 0;

	if (t->nksteps - t->nouts != d->nvals || (d->nvals && !d->vals)) {
		lm_why(why, wl, "drop of %s gives %zu values for %zu key parameters", t->name,
		       d->nvals, t->nksteps - t->nouts);
		return -1;
	}
	dp->nvals = t->nksteps;
	dp->vals = calloc(t->nksteps ? t->nksteps : 1, sizeof(*dp->vals));
	if (!dp->vals) {
		lm_why(why, wl, "out of memory");
		return -1;
	}
	for (j = 0; j < t->nksteps; j++) {
		const struct lm_kstep *ks = &t->ksteps[j];
		const struct lm_dropval *v;
		enum lm_kind wk = LM_K_VOID;

		if (ks->op == LM_KS_OUT)
			continue;
		v = &d->vals[i++];
		if (v->kind == LM_DV_PARAM) {
			if (!w || v->param < 0 || (size_t)v->param >= w->nparams) {
				lm_why(why, wl, "drop value %zu names no parameter of the writer",
				       i);
				return -1;
			}
			wk = w->params[v->param].kind;
		}
		if (!compatible(t->params[ks->param].kind, v, wk)) {
			lm_why(why, wl,
			       "drop value %zu cannot be compared with key parameter %u of %s", i,
			       ks->param + 1, t->name);
			return -1;
		}
		dp->vals[j] = *v;
		dp->vals[j].sval = NULL;
		if (v->kind == LM_DV_STR && !(dp->vals[j].sval = strdup(v->sval ? v->sval : ""))) {
			lm_why(why, wl, "out of memory");
			return -1;
		}
	}
	return 0;
}

struct lm_drop_plan *lm_drop_plan_compile(const struct lm_plan *w, const struct lm_plan *t,
                                          const struct lm_drop *d, char *why, size_t whylen)
{
	struct lm_drop_plan *dp;
	LM_KEEP_ERRNO();

	if (!d || (d->kind == LM_DROP_KEY && !t) || (d->kind == LM_DROP_METHOD && !t)) {
		lm_why(why, whylen, "a drop needs its target method");
		return NULL;
	}
	dp = calloc(1, sizeof(*dp));
	if (!dp) {
		lm_why(why, whylen, "out of memory");
		return NULL;
	}
	dp->w = w;
	dp->t = t;
	dp->all = d->kind != LM_DROP_KEY;
	if (!dp->all && vals_compile(dp, d, why, whylen) < 0) {
		lm_drop_plan_free(dp);
		dp = NULL;
	}
	return dp;
}

/* ---- encoding values ---------------------------------------------------- */

static int put_float(struct lm_buf *out, unsigned width, double d)
{
	float x = (float)d;

	return width == 4 ? lm_buf_append(out, &x, 4) : lm_buf_append(out, &d, 8);
}

/* Append key step KS's item for value V at the writer's call WF: 0, 1 when
 * the value cannot be known at this call (treat as `*`), -1 on OOM. */
static int encode(const struct lm_drop_plan *dp, const struct lm_kstep *ks,
                  const struct lm_dropval *v, const struct lm_frame *wf, struct lm_buf *out)
{
	enum lm_kind tk = dp->t->params[ks->param].kind;
	const struct lm_pparam *q = v->kind == LM_DV_PARAM ? &dp->w->params[v->param] : NULL;
	uint64_t word = q ? lm_loc_read(wf, &q->loc) : 0;
	const char *s;
	int64_t n;
	double d;
	float x;

	if (tk == LM_K_STR) {
		s = q ? lm_word_ptr(word) : v->sval;
		if (!s)
			return lm_buf_append(out, "", 1);
		return lm_buf_put_blob(out, s, strlen(s));
	}
	if (tk == LM_K_BUF) {
		if (!word)
			return lm_buf_append(out, "", 1);
		if ((n = lm_size_at(dp->w, &q->size, wf)) < 0)
			return 1;
		return lm_buf_put_blob(out, lm_word_ptr(word), (size_t)n);
	}
	if (lm_kind_is_float(tk)) {
		/* The same width keeps the bit pattern (NaN payloads). */
		if (q && q->width == ks->width)
			return lm_buf_append(out, &word, ks->width);
		if (q && q->width == 4) {
			memcpy(&x, &word, 4);
			d = x;
		} else if (q) {
			memcpy(&d, &word, 8);
		} else {
			d = v->kind == LM_DV_FLOAT ? v->fval : (double)v->ival;
		}
		return put_float(out, ks->width, d);
	}
	if (q && lm_kind_is_int(q->kind))
		word = lm_int_extend(word, q->width, q->is_signed);
	else if (!q)
		word = (uint64_t)v->ival;
	if (tk == LM_K_BOOL)
		word = word != 0;
	return lm_buf_append(out, &word, ks->width);
}

static int build_pattern(const struct lm_drop_plan *dp, const struct lm_frame *wf,
                         struct lm_buf *out)
{
	size_t j, at;
	uint32_t n;
	int rc;

	for (j = 0; j < dp->nvals; j++) {
		const struct lm_kstep *ks = &dp->t->ksteps[j];

		if (ks->op == LM_KS_OUT || dp->vals[j].kind == LM_DV_ANY) {
			if (lm_buf_append(out, "", 1) < 0)
				return -1;
			continue;
		}
		at = out->len;
		if (lm_buf_append(out, "\1\0\0\0\0", 5) < 0)
			return -1;
		rc = encode(dp, ks, &dp->vals[j], wf, out);
		if (rc < 0)
			return -1;
		if (rc > 0) {
			out->p[at] = 0;
			out->len = at + 1;
			continue;
		}
		n = (uint32_t)(out->len - at - 5);
		memcpy(out->p + at + 1, &n, 4);
	}
	return 0;
}

/* The exact keys, built in OUT past its length and handed to EXACT; OUT
 * keeps its length. 1, 0 when some value is unknown at this call, -1. */
static int exact_keys(const struct lm_drop_plan *dp, const struct lm_frame *wf, lm_key_cb exact,
                      void *arg, struct lm_buf *out)
{
	size_t outpos[LM_DROP_MAX_OUTS], nout = 0, j, start = out->len;
	uint32_t mask;
	int rc = 0;

	for (j = 0; j < dp->nvals && rc == 0; j++) {
		const struct lm_kstep *ks = &dp->t->ksteps[j];

		if (ks->op == LM_KS_OUT) {
			outpos[nout++] = out->len;
			rc = lm_buf_append(out, "", 1);
		} else {
			rc = encode(dp, ks, &dp->vals[j], wf, out);
		}
	}
	if (rc == 0 && out->len - start > UINT32_MAX)
		rc = 1;
	for (mask = 0; rc == 0 && mask < (1u << nout); mask++) {
		for (j = 0; j < nout; j++)
			out->p[outpos[j]] = (mask >> j) & 1;
		exact(out->p + start, (uint32_t)(out->len - start), arg);
	}
	out->len = start;
	return rc == 0 ? 1 : rc > 0 ? 0 : -1;
}

int lm_drop_plan_keys(const struct lm_drop_plan *dp, const struct lm_frame *wf, lm_key_cb exact,
                      void *arg, struct lm_buf *pattern)
{
	size_t j, start = pattern->len;
	bool any = dp->t && dp->t->nouts > LM_DROP_MAX_OUTS;
	int rc;

	if (dp->all || !dp->t)
		return 0;
	for (j = 0; j < dp->nvals; j++)
		if (dp->t->ksteps[j].op != LM_KS_OUT && dp->vals[j].kind == LM_DV_ANY)
			any = true;
	if (!any) {
		rc = exact_keys(dp, wf, exact, arg, pattern);
		if (rc != 0)
			return rc;
	}
	if (build_pattern(dp, wf, pattern) < 0) {
		pattern->len = start;
		return -1;
	}
	return 0;
}

bool lm_drop_plan_matches(const struct lm_drop_plan *dp, const void *pattern, size_t plen,
                          const void *key, uint32_t klen)
{
	struct lm_rd pr = {pattern, plen}, kr = {key, klen};
	const unsigned char *want, *item;
	uint32_t n;
	uint8_t mode;
	size_t j;

	if (dp->all || !dp->t)
		return true;
	for (j = 0; j < dp->nvals; j++) {
		item = kr.p;
		if (!lm_key_step_skip(&dp->t->ksteps[j], &kr) || !lm_rd_u8(&pr, &mode) || mode > 1)
			return false;
		if (!mode)
			continue;
		if (!lm_rd_u32(&pr, &n) || !lm_rd_bytes(&pr, n, &want))
			return false;
		if (n != (size_t)(kr.p - item) || memcmp(want, item, n) != 0)
			return false;
	}
	return kr.n == 0 && pr.n == 0;
}
