/* `drop` (spec 3.5): the targets of a write function, checked against the
 * key parameters of each target [cache] method. Runs after every section
 * is read, so a target may be defined further down the file. */
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

struct dp {
	struct lm_ctx *c;
	struct lm_lexer lx;
	const struct lm_method *w; /* the write function */
	bool failed;
};

static void fail(struct dp *p, const struct lm_tok *t, const char *expected)
{
	char d[64];
	lm_tok_describe(t, d, sizeof(d));
	lm_diag_error(p->c, t->pos, "expected %s in 'drop', got %s", expected, d);
	p->failed = true;
}

/* One value inside M(...): a literal (dropval.c, as `ldmemo ctl` reads
 * them) or a parameter of the write function. */
static bool value(struct dp *p, struct lm_dropval *v)
{
	char why[160];
	int rc = lm_dropval_lex(&p->lx, v, why, sizeof(why));

	if (rc == -2)
		lm_diag_error(
		    p->c, v->pos,
		    "expected a parameter name, a number, a \"string\" or '*' in 'drop', got %s",
		    why);
	else if (rc < 0)
		lm_diag_error(p->c, v->pos, "%s", why);
	if (rc < 0) {
		p->failed = true;
		return false;
	}
	if (rc > 0)
		return true;
	struct lm_tok t = lm_lex_next(&p->lx);
	const struct lm_sig *sig = &p->w->sig;
	v->kind = LM_DV_PARAM;
	v->param = -1;
	for (size_t i = 0; i < sig->nparams; i++)
		if (sig->params[i].name && strlen(sig->params[i].name) == t.len &&
		    memcmp(sig->params[i].name, t.s, t.len) == 0)
			v->param = (int)i;
	if (v->param < 0 && sig->name) {
		lm_diag_error(p->c, t.pos, "'" LM_QFMT "' is not a parameter of %s",
		              LM_QARG(t.s, t.len), p->w->name);
		return false;
	}
	return true;
}

/* Can value V of the write function be compared with key parameter K? */
static bool comparable(struct dp *p, struct lm_dropval *v, const struct lm_param *k)
{
	enum lm_kind vk;

	switch (v->kind) {
	case LM_DV_ANY:
	case LM_DV_INT:
	case LM_DV_FLOAT:
	case LM_DV_STR:
		if (v->kind == LM_DV_INT && lm_kind_is_float(k->kind)) {
			v->kind = LM_DV_FLOAT;
			v->fval = (double)v->ival;
		}
		return lm_dropval_fits(v, k->kind);
	case LM_DV_PARAM:
		if (v->param < 0)
			return true; /* the write function's signature has errors */
		vk = p->w->sig.params[v->param].kind;
		if (lm_kind_is_int(k->kind))
			return lm_kind_is_int(vk);
		if (lm_kind_is_float(k->kind))
			return lm_kind_is_float(vk);
		return vk == k->kind;
	}
	return false;
}

static const char *value_class(struct dp *p, const struct lm_dropval *v)
{
	if (v->kind == LM_DV_PARAM)
		return lm_kind_class(p->w->sig.params[v->param].kind);
	return lm_dropval_class(v->kind);
}

/* Target M: must be a [cache] method; values must fit its key parameters. */
static void check(struct dp *p, struct lm_drop *d, const struct lm_tok *name)
{
	const struct lm_config *cfg = p->c->cfg;
	const struct lm_method *m;
	size_t nkey = 0, k = 0;

	d->method = lm_find_method_n(cfg, name->s, name->len);
	if (d->method < 0) {
		lm_diag_error(p->c, name->pos, "drop target '" LM_QFMT "' is not a [cache] section",
		              LM_QARG(name->s, name->len));
		return;
	}
	m = &cfg->methods[d->method];
	if (m->invalidator) {
		lm_diag_error(p->c, name->pos,
		              "drop target '" LM_QFMT "' is a write function, not a [cache] method",
		              LM_QARG(name->s, name->len));
		return;
	}
	if (d->kind != LM_DROP_KEY || !m->sig.name)
		return;
	for (size_t i = 0; i < m->sig.nparams; i++)
		nkey += lm_param_is_drop_key(&m->sig.params[i]);
	if (d->nvals != nkey) {
		lm_diag_error(p->c, name->pos, "%s has %zu key parameter%s, %zu value%s given",
		              m->name, nkey, nkey == 1 ? "" : "s", d->nvals,
		              d->nvals == 1 ? "" : "s");
		return;
	}
	if (nkey == 0)
		d->kind = LM_DROP_METHOD;
	for (size_t i = 0; i < m->sig.nparams; i++) {
		const struct lm_param *kp = &m->sig.params[i];
		if (!lm_param_is_drop_key(kp))
			continue;
		struct lm_dropval *v = &d->vals[k++];
		if (!comparable(p, v, kp))
			lm_diag_error(p->c, v->pos,
			              "%s value cannot match key parameter %zu of %s (%s)",
			              value_class(p, v), k, m->name, lm_kind_class(kp->kind));
	}
}

/* M(...) after the name: `*` alone or one value per key parameter. */
static void values(struct dp *p, struct lm_drop *d)
{
	size_t cap = 0;
	struct lm_tok t = lm_lex_peek(&p->lx);
	struct lm_lexer save = p->lx;

	lm_lex_next(&p->lx);
	if (lm_lex_peek(&p->lx).kind == LM_T_RPAREN) {
		lm_lex_next(&p->lx);
		if (t.kind == LM_T_STAR) {
			d->kind = LM_DROP_METHOD;
			return;
		}
	}
	p->lx = save;
	d->kind = LM_DROP_KEY;
	if (t.kind == LM_T_RPAREN) {
		lm_lex_next(&p->lx);
		return;
	}
	for (;;) {
		struct lm_dropval *nv = lm_grow(p->c, d->vals, &cap, d->nvals, sizeof(*nv), 4);
		if (!nv) {
			p->failed = true;
			return;
		}
		d->vals = nv;
		memset(&d->vals[d->nvals], 0, sizeof(d->vals[0]));
		if (!value(p, &d->vals[d->nvals]) && p->failed)
			return;
		d->nvals++;
		t = lm_lex_next(&p->lx);
		if (t.kind == LM_T_RPAREN)
			return;
		if (t.kind != LM_T_COMMA) {
			fail(p, &t, "',' or ')'");
			return;
		}
	}
}

void lm_drop_parse(struct lm_ctx *c, struct lm_rsec *s)
{
	struct lm_method *w = &c->cfg->methods[s->index];
	const struct lm_kv *kv = &s->keys[LM_KEY_DROP];
	struct dp p = {.c = c, .w = w};
	size_t cap = 1;

	if (!kv->present)
		return;
	for (size_t i = 0; i < kv->vlen; i++)
		cap += kv->val[i] == ',';
	w->drops = lm_calloc(c, cap, sizeof(*w->drops));
	if (!w->drops)
		return;
	lm_lex_init(&p.lx, kv->val, kv->vlen, kv->vpos);
	while (!p.failed) {
		struct lm_drop *d = &w->drops[w->ndrops];
		struct lm_tok t = lm_lex_next(&p.lx);

		memset(d, 0, sizeof(*d));
		d->pos = t.pos;
		d->method = -1;
		if (t.kind == LM_T_STAR) {
			d->kind = LM_DROP_ALL;
		} else if (t.kind == LM_T_IDENT) {
			d->kind = LM_DROP_METHOD;
			if (lm_lex_peek(&p.lx).kind == LM_T_LPAREN) {
				lm_lex_next(&p.lx);
				values(&p, d);
			}
			if (!p.failed)
				check(&p, d, &t);
		} else {
			fail(&p, &t, "a [cache] method or '*'");
			break;
		}
		w->ndrops++;
		if (p.failed)
			break;
		t = lm_lex_next(&p.lx);
		if (t.kind == LM_T_END)
			break;
		if (t.kind != LM_T_COMMA)
			fail(&p, &t, "',' between targets");
	}
}
