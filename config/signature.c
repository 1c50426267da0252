/* `signature` (spec 3.3): the return, the name and the parameters, with
 * every SIZE resolved once all parameters are known (a size may name a
 * parameter that comes later, as in read(int, out(n), size_t n)). */
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

/* A SIZE written as a word, kept until the parameters are all known. */
struct pending {
	struct lm_tok word;
	bool set;
};

struct sp {
	struct lm_ctx *c;
	struct lm_lexer lx;
	struct lm_sig *sig;
	struct pending *psize;  /* per parameter */
	struct pending rsize;   /* buf return */
	struct lm_tok retparam; /* ptr(NAME) */
};

static void describe_err(struct sp *p, const struct lm_tok *t, const char *expected)
{
	char d[64];
	lm_tok_describe(t, d, sizeof(d));
	lm_diag_error(p->c, t->pos, "expected %s, got %s", expected, d);
}

/* "(SIZE)" after buf or out: a literal now, a word later. */
static bool size(struct sp *p, const struct lm_tok *kw, struct lm_size *sz, struct pending *pend)
{
	struct lm_tok lp = lm_lex_next(&p->lx), v, rp;

	if (lp.kind != LM_T_LPAREN) {
		lm_diag_error(p->c, kw->pos, "'" LM_QFMT "' needs a size: " LM_QFMT "(SIZE)",
		              LM_QARG(kw->s, kw->len), LM_QARG(kw->s, kw->len));
		return false;
	}
	v = lm_lex_next(&p->lx);
	if (v.kind == LM_T_INT) {
		if (v.ival <= 0) {
			lm_diag_error(p->c, v.pos, "SIZE must be positive");
			return false;
		}
		sz->kind = LM_SZ_LIT;
		sz->lit = (size_t)v.ival;
	} else if (v.kind == LM_T_IDENT) {
		pend->word = v;
		pend->set = true;
	} else {
		describe_err(p, &v, "SIZE (a number, a parameter, a [type], ret or str)");
		return false;
	}
	rp = lm_lex_next(&p->lx);
	if (rp.kind != LM_T_RPAREN) {
		describe_err(p, &rp, "')'");
		return false;
	}
	return true;
}

static bool is_type_ref(struct sp *p, const struct lm_tok *t)
{
	return t->kind == LM_T_IDENT && lm_find_type_n(p->c->cfg, t->s, t->len) >= 0;
}

static bool type_usable(struct sp *p, const struct lm_tok *t, int idx)
{
	if (p->c->cfg->types[idx].broken) {
		lm_diag_error(p->c, t->pos, "type '" LM_QFMT "' has errors", LM_QARG(t->s, t->len));
		return false;
	}
	return true;
}

static bool ret_static(struct sp *p, const struct lm_tok *st)
{
	struct lm_ret *r = &p->sig->ret;
	struct lm_tok t = lm_lex_next(&p->lx);

	if (lm_tok_is(&t, "str")) {
		r->how = LM_RET_STATIC_STR;
		r->kind = LM_K_STR;
		return true;
	}
	if (lm_tok_is(&t, "buf")) {
		r->how = LM_RET_STATIC_BUF;
		r->kind = LM_K_BUF;
		return size(p, &t, &r->size, &p->rsize);
	}
	if (is_type_ref(p, &t) && lm_lex_peek(&p->lx).kind == LM_T_STAR) {
		lm_lex_next(&p->lx);
		r->how = LM_RET_STATIC_TYPE;
		r->kind = LM_K_PTR;
		r->type = lm_find_type_n(p->c->cfg, t.s, t.len);
		return type_usable(p, &t, r->type);
	}
	if (t.kind == LM_T_IDENT && lm_lex_peek(&p->lx).kind == LM_T_STAR) {
		lm_diag_error(p->c, t.pos,
		              "type '" LM_QFMT "' is not defined: add a [type " LM_QFMT
		              "] section (ldmemo symbols --config writes one)",
		              LM_QARG(t.s, t.len), LM_QARG(t.s, t.len));
		return false;
	}
	lm_diag_error(p->c, st->pos, "'static' must be followed by str, buf(SIZE) or TYPE*");
	return false;
}

static bool ret_type(struct sp *p)
{
	struct lm_ret *r = &p->sig->ret;
	struct lm_tok t = lm_lex_peek(&p->lx);
	int rc;

	r->pos = t.pos;
	r->how = LM_RET_VALUE;
	rc = lm_parse_c_kind(p->c, &p->lx, &r->kind);
	if (rc < 0)
		return false;
	if (rc > 0) {
		if (r->kind == LM_K_STR) {
			lm_diag_error(
			    p->c, t.pos,
			    "a 'const char *' return is str (malloc'd) or static str: say which");
			return false;
		}
		if (lm_lex_peek(&p->lx).kind == LM_T_STAR) {
			lm_diag_error(
			    p->c, t.pos,
			    "pointer return: use ptr, str, buf(SIZE), ptr(NAME) or static TYPE*");
			return false;
		}
		return true;
	}
	lm_lex_next(&p->lx);
	if (lm_tok_is(&t, "static"))
		return ret_static(p, &t);
	if (lm_tok_is(&t, "str")) {
		r->how = LM_RET_STR;
		r->kind = LM_K_STR;
		return true;
	}
	if (lm_tok_is(&t, "buf")) {
		r->how = LM_RET_BUF;
		r->kind = LM_K_BUF;
		return size(p, &t, &r->size, &p->rsize);
	}
	if (lm_tok_is(&t, "ptr")) {
		r->kind = LM_K_PTR;
		if (lm_lex_peek(&p->lx).kind != LM_T_LPAREN)
			return true;
		lm_lex_next(&p->lx);
		struct lm_tok n = lm_lex_next(&p->lx), rp = lm_lex_next(&p->lx);
		if (n.kind != LM_T_IDENT || rp.kind != LM_T_RPAREN) {
			lm_diag_error(p->c, t.pos, "expected ptr(NAME) with NAME a parameter");
			return false;
		}
		r->how = LM_RET_PARAM;
		p->retparam = n;
		return true;
	}
	if (lm_tok_is(&t, "void")) {
		if (lm_lex_peek(&p->lx).kind == LM_T_STAR) {
			lm_diag_error(p->c, t.pos, "'void *' is not a kind: use ptr");
			return false;
		}
		r->kind = LM_K_VOID;
		return true;
	}
	if (lm_tok_is(&t, "struct") || lm_tok_is(&t, "union")) {
		lm_diag_error(p->c, t.pos,
		              "structs and unions returned by value are not supported");
		return false;
	}
	if (is_type_ref(p, &t)) {
		if (lm_lex_peek(&p->lx).kind == LM_T_STAR)
			lm_diag_error(p->c, t.pos,
			              "a '" LM_QFMT "*' return needs 'static' (static " LM_QFMT
			              "*)",
			              LM_QARG(t.s, t.len), LM_QARG(t.s, t.len));
		else
			lm_diag_error(p->c, t.pos,
			              "struct '" LM_QFMT "' returned by value is not supported",
			              LM_QARG(t.s, t.len));
		return false;
	}
	if (t.kind == LM_T_IDENT && lm_lex_peek(&p->lx).kind == LM_T_STAR)
		lm_diag_error(p->c, t.pos,
		              "type '" LM_QFMT "' is not defined (a [type " LM_QFMT
		              "] section), and a pointer return needs 'static'",
		              LM_QARG(t.s, t.len), LM_QARG(t.s, t.len));
	else if (t.kind == LM_T_IDENT)
		lm_diag_error(p->c, t.pos, "unknown return type '" LM_QFMT "'",
		              LM_QARG(t.s, t.len));
	else
		describe_err(p, &t, "a return type");
	return false;
}

static bool param_kind(struct sp *p, struct lm_param *pa, struct pending *pend)
{
	struct lm_tok t = lm_lex_peek(&p->lx);
	int rc = lm_parse_c_kind(p->c, &p->lx, &pa->kind);

	pa->pos = t.pos;
	if (rc < 0)
		return false;
	if (rc > 0) {
		if (lm_lex_peek(&p->lx).kind == LM_T_STAR) {
			lm_diag_error(p->c, t.pos,
			              "pointer parameter: use str, ptr, buf(SIZE) or out(SIZE)");
			return false;
		}
		return true;
	}
	lm_lex_next(&p->lx);
	if (t.kind == LM_T_ELLIPSIS) {
		lm_diag_error(p->c, t.pos, "variadic functions ('...') are not supported");
		return false;
	}
	if (lm_tok_is(&t, "str") || lm_tok_is(&t, "ptr") || lm_tok_is(&t, "ignore")) {
		pa->kind = t.s[0] == 's' ? LM_K_STR : t.s[0] == 'p' ? LM_K_PTR : LM_K_IGNORE;
		return true;
	}
	if (lm_tok_is(&t, "buf") || lm_tok_is(&t, "out")) {
		pa->kind = t.s[0] == 'b' ? LM_K_BUF : LM_K_OUT;
		return size(p, &t, &pa->size, pend);
	}
	if (lm_tok_is(&t, "void")) {
		lm_diag_error(p->c, t.pos,
		              lm_lex_peek(&p->lx).kind == LM_T_STAR
		                  ? "'void *' is not a kind: use ptr"
		                  : "'void' must be the only parameter");
		return false;
	}
	if (lm_tok_is(&t, "struct") || lm_tok_is(&t, "union")) {
		lm_diag_error(p->c, t.pos, "structs and unions passed by value are not supported");
		return false;
	}
	if (is_type_ref(p, &t)) {
		if (lm_lex_peek(&p->lx).kind == LM_T_STAR)
			lm_diag_error(
			    p->c, t.pos,
			    "'" LM_QFMT "*' is not a parameter kind: use ptr, buf(" LM_QFMT
			    ") or out(" LM_QFMT ")",
			    LM_QARG(t.s, t.len), LM_QARG(t.s, t.len), LM_QARG(t.s, t.len));
		else
			lm_diag_error(p->c, t.pos,
			              "struct '" LM_QFMT "' passed by value is not supported",
			              LM_QARG(t.s, t.len));
		return false;
	}
	if (t.kind == LM_T_IDENT)
		lm_diag_error(p->c, t.pos, "unknown parameter kind '" LM_QFMT "'",
		              LM_QARG(t.s, t.len));
	else
		describe_err(p, &t, "a parameter kind");
	return false;
}

/* After an error in a parameter: on to the next ',' or the closing ')'. */
static void recover(struct sp *p)
{
	int depth = 0;
	for (;;) {
		struct lm_tok t = lm_lex_peek(&p->lx);
		if (t.kind == LM_T_END ||
		    (depth == 0 && (t.kind == LM_T_COMMA || t.kind == LM_T_RPAREN)))
			return;
		if (t.kind == LM_T_LPAREN)
			depth++;
		else if (t.kind == LM_T_RPAREN)
			depth--;
		lm_lex_next(&p->lx);
	}
}

static int param_index(const struct lm_sig *sig, const char *s, size_t n)
{
	for (size_t i = 0; i < sig->nparams; i++)
		if (sig->params[i].name && strlen(sig->params[i].name) == n &&
		    memcmp(sig->params[i].name, s, n) == 0)
			return (int)i;
	return -1;
}

static void params(struct sp *p)
{
	struct lm_sig *sig = p->sig;
	struct lm_tok t = lm_lex_peek(&p->lx);

	if (t.kind == LM_T_RPAREN) {
		lm_lex_next(&p->lx);
		return;
	}
	if (lm_tok_is(&t, "void")) {
		struct lm_lexer save = p->lx;
		lm_lex_next(&p->lx);
		if (lm_lex_peek(&p->lx).kind == LM_T_RPAREN) {
			lm_lex_next(&p->lx);
			return;
		}
		p->lx = save;
	}
	for (;;) {
		struct lm_param *pa = &sig->params[sig->nparams];
		struct pending *pend = &p->psize[sig->nparams];

		bool ok = param_kind(p, pa, pend);
		if (!ok)
			recover(p);
		if (ok) {
			struct lm_tok n = lm_lex_peek(&p->lx);
			if (n.kind == LM_T_IDENT) {
				lm_lex_next(&p->lx);
				if (param_index(sig, n.s, n.len) >= 0) {
					lm_diag_error(p->c, n.pos,
					              "duplicate parameter '" LM_QFMT "'",
					              LM_QARG(n.s, n.len));
				} else {
					pa->name = lm_strndup(p->c, n.s, n.len);
					if (!pa->name)
						return;
				}
			}
			sig->nparams++;
		}
		t = lm_lex_peek(&p->lx);
		if (t.kind != LM_T_COMMA && t.kind != LM_T_RPAREN) {
			if (t.kind == LM_T_END)
				lm_diag_error(p->c, t.pos, "missing ')' after the parameters");
			else if (ok)
				describe_err(p, &t, "',' or ')'");
			recover(p);
			t = lm_lex_peek(&p->lx);
		}
		lm_lex_next(&p->lx);
		if (t.kind != LM_T_COMMA)
			return;
	}
}

/* A SIZE word: ret, str, an integer parameter or a flat [type]. */
static void resolve_size(struct sp *p, struct pending *pend, struct lm_size *sz, bool out)
{
	const struct lm_tok *w = &pend->word;
	int i;

	if (!pend->set)
		return;
	if (lm_tok_is(w, "ret") || lm_tok_is(w, "str")) {
		if (!out) {
			lm_diag_error(p->c, w->pos, "'" LM_QFMT "' is a SIZE only in out()",
			              LM_QARG(w->s, w->len));
		} else if (w->s[0] == 's') {
			sz->kind = LM_SZ_STR;
		} else if (p->sig->ret.how != LM_RET_VALUE || !lm_kind_is_int(p->sig->ret.kind)) {
			lm_diag_error(p->c, w->pos,
			              "out(ret) needs a function that returns an integer");
		} else {
			sz->kind = LM_SZ_RET;
		}
		return;
	}
	i = param_index(p->sig, w->s, w->len);
	if (i >= 0) {
		if (!lm_kind_is_int(p->sig->params[i].kind))
			lm_diag_error(p->c, w->pos,
			              "SIZE parameter '" LM_QFMT "' is not an integer",
			              LM_QARG(w->s, w->len));
		sz->kind = LM_SZ_PARAM;
		sz->param = i;
		return;
	}
	i = lm_find_type_n(p->c->cfg, w->s, w->len);
	if (i >= 0) {
		if (!type_usable(p, w, i))
			return;
		if (p->c->cfg->types[i].has_pointers)
			lm_diag_error(p->c, w->pos,
			              "type '" LM_QFMT "' has pointer fields: it cannot be a SIZE",
			              LM_QARG(w->s, w->len));
		sz->kind = LM_SZ_TYPE;
		sz->type = i;
		return;
	}
	lm_diag_error(p->c, w->pos, "unknown SIZE '" LM_QFMT "' (not a parameter or a [type])",
	              LM_QARG(w->s, w->len));
}

static void resolve(struct sp *p)
{
	struct lm_sig *sig = p->sig;

	for (size_t i = 0; i < sig->nparams; i++)
		resolve_size(p, &p->psize[i], &sig->params[i].size,
		             sig->params[i].kind == LM_K_OUT);
	resolve_size(p, &p->rsize, &sig->ret.size, false);
	if (sig->ret.how == LM_RET_PARAM) {
		const struct lm_tok *n = &p->retparam;
		int i = param_index(sig, n->s, n->len);
		if (i < 0) {
			lm_diag_error(p->c, n->pos,
			              "ptr(" LM_QFMT "): no parameter named '" LM_QFMT "'",
			              LM_QARG(n->s, n->len), LM_QARG(n->s, n->len));
		} else {
			enum lm_kind k = sig->params[i].kind;
			if (lm_kind_is_int(k) || lm_kind_is_float(k))
				lm_diag_error(p->c, n->pos,
				              "ptr(" LM_QFMT "): '" LM_QFMT
				              "' is not a pointer parameter",
				              LM_QARG(n->s, n->len), LM_QARG(n->s, n->len));
			sig->ret.param = i;
		}
	}
}

bool lm_sig_parse(struct lm_ctx *c, struct lm_rsec *s, const struct lm_kv *kv, struct lm_sig *sig)
{
	struct sp p = {.c = c, .sig = sig};
	int before = c->errors;
	size_t cap = 1;
	struct lm_tok t;

	for (size_t i = 0; i < kv->vlen; i++)
		cap += kv->val[i] == ',';
	sig->params = lm_calloc(c, cap, sizeof(*sig->params));
	p.psize = lm_calloc(c, cap, sizeof(*p.psize));
	if (!sig->params || !p.psize)
		goto out;
	lm_lex_init(&p.lx, kv->val, kv->vlen, kv->vpos);
	if (!ret_type(&p))
		goto out;
	t = lm_lex_next(&p.lx);
	if (t.kind != LM_T_IDENT) {
		describe_err(&p, &t, "the function name");
		goto out;
	}
	if (t.len != s->nlen || memcmp(t.s, s->name, s->nlen) != 0) {
		lm_diag_error(
		    c, t.pos, "signature names '" LM_QFMT "' but the section is [%s " LM_QFMT "]",
		    LM_QARG(t.s, t.len), lm_sec_kind_name(s->kind), LM_QARG(s->name, s->nlen));
		goto out;
	}
	sig->name = lm_strndup(c, t.s, t.len);
	t = lm_lex_next(&p.lx);
	if (t.kind != LM_T_LPAREN) {
		describe_err(&p, &t, "'(' after the function name");
		goto out;
	}
	params(&p);
	t = lm_lex_next(&p.lx);
	if (t.kind != LM_T_END && c->errors == before)
		lm_diag_error(c, t.pos, "unexpected '" LM_QFMT "' after ')'", LM_QARG(t.s, t.len));
	if (c->errors == before)
		resolve(&p);
out:
	free(p.psize);
	if (c->errors != before) {
		/* A signature with errors is not usable: sig->name says it parsed. */
		free(sig->name);
		sig->name = NULL;
		return false;
	}
	return !c->oom;
}
