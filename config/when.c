/* `when` (spec 3.4): comparisons of ret or errno with a literal, joined by
 * && (binding tighter) and ||, with parentheses. Depth and length are
 * capped so that no input can exhaust the stack here or in whoever walks
 * the tree later. */
#include <stdlib.h>

#include "parse_internal.h"

struct wp {
	struct lm_ctx *c;
	struct lm_lexer lx;
	const struct lm_sig *sig;
	bool sig_ok;
	int terms;
	bool failed;
};

void lm_expr_free(struct lm_expr *e)
{
	if (!e)
		return;
	lm_expr_free(e->lhs);
	lm_expr_free(e->rhs);
	free(e);
}

static void fail(struct wp *w, const struct lm_tok *t, const char *expected)
{
	char d[64];
	lm_tok_describe(t, d, sizeof(d));
	lm_diag_error(w->c, t->pos, "expected %s in 'when', got %s", expected, d);
	w->failed = true;
}

static bool ret_is_pointer(const struct lm_sig *sig)
{
	return sig->ret.how != LM_RET_VALUE || sig->ret.kind == LM_K_PTR;
}

/* The literal after the operator, checked against what it is compared with. */
static bool literal(struct wp *w, struct lm_expr *e, const struct lm_tok *opnd)
{
	struct lm_tok t = lm_lex_next(&w->lx), neg = t;
	bool minus = t.kind == LM_T_MINUS;
	int ev;

	if (minus)
		t = lm_lex_next(&w->lx);
	if (t.kind == LM_T_INT) {
		e->lit = LM_LIT_INT;
		e->ival = minus ? -t.ival : t.ival;
	} else if (t.kind == LM_T_FLOAT) {
		e->lit = LM_LIT_FLOAT;
		e->fval = minus ? -t.fval : t.fval;
	} else if (lm_tok_is(&t, "NULL") && !minus) {
		e->lit = LM_LIT_NULL;
	} else if (t.kind == LM_T_IDENT && lm_errno_lookup(t.s, t.len, &ev)) {
		e->lit = LM_LIT_INT;
		e->ival = minus ? -ev : ev;
	} else if (t.kind == LM_T_IDENT) {
		lm_diag_error(w->c, t.pos,
		              "unknown constant '" LM_QFMT
		              "' (expected a number, NULL or an errno name)",
		              LM_QARG(t.s, t.len));
		w->failed = true;
		return false;
	} else {
		fail(w, &t, "a number, NULL or an errno name");
		return false;
	}
	if (e->operand == LM_OPND_ERRNO) {
		if (e->lit != LM_LIT_INT) {
			lm_diag_error(w->c, neg.pos,
			              "errno is compared with integers or errno names");
			w->failed = true;
			return false;
		}
		return true;
	}
	if (!w->sig_ok)
		return true;
	if (w->sig->ret.how == LM_RET_VALUE && w->sig->ret.kind == LM_K_VOID) {
		lm_diag_error(w->c, opnd->pos, "'ret' of a function returning void");
	} else if (ret_is_pointer(w->sig)) {
		if (e->lit == LM_LIT_NULL && (e->cmp == LM_CMP_EQ || e->cmp == LM_CMP_NE))
			return true;
		lm_diag_error(w->c, neg.pos,
		              "a pointer return compares only with == NULL or != NULL");
	} else if (e->lit == LM_LIT_NULL) {
		lm_diag_error(w->c, neg.pos, "NULL compared with a non-pointer return");
	} else if (lm_kind_is_float(w->sig->ret.kind)) {
		if (e->lit == LM_LIT_INT) {
			e->lit = LM_LIT_FLOAT;
			e->fval = (double)e->ival;
		}
		return true;
	} else if (e->lit == LM_LIT_FLOAT) {
		lm_diag_error(w->c, neg.pos, "float literal compared with an integer return");
	} else {
		return true;
	}
	w->failed = true;
	return false;
}

static struct lm_expr *or_expr(struct wp *w, int depth);

static struct lm_expr *primary(struct wp *w, int depth)
{
	struct lm_tok t = lm_lex_next(&w->lx), op;
	struct lm_expr *e;

	if (t.kind == LM_T_LPAREN) {
		if (depth >= LM_WHEN_MAX_DEPTH) {
			lm_diag_error(w->c, t.pos, "'when' nested more than %d parentheses deep",
			              LM_WHEN_MAX_DEPTH);
			w->failed = true;
			return NULL;
		}
		e = or_expr(w, depth + 1);
		if (w->failed)
			return e;
		t = lm_lex_next(&w->lx);
		if (t.kind != LM_T_RPAREN)
			fail(w, &t, "')'");
		return e;
	}
	if (!lm_tok_is(&t, "ret") && !lm_tok_is(&t, "errno")) {
		fail(w, &t, "ret, errno or '('");
		return NULL;
	}
	if (++w->terms > LM_WHEN_MAX_TERMS) {
		lm_diag_error(w->c, t.pos, "'when' has more than %d comparisons",
		              LM_WHEN_MAX_TERMS);
		w->failed = true;
		return NULL;
	}
	op = lm_lex_next(&w->lx);
	if (op.kind != LM_T_OP) {
		fail(w, &op, "a comparison (== != < <= > >=)");
		return NULL;
	}
	e = lm_calloc(w->c, 1, sizeof(*e));
	if (!e) {
		w->failed = true;
		return NULL;
	}
	e->op = LM_E_CMP;
	e->operand = t.s[0] == 'r' ? LM_OPND_RET : LM_OPND_ERRNO;
	e->cmp = op.op;
	e->pos = t.pos;
	literal(w, e, &t);
	return e;
}

/* Left-associative chain: || of && terms (OR true), or && of primaries. */
static struct lm_expr *chain(struct wp *w, int depth, bool or)
{
	enum lm_tok_kind tk = or ? LM_T_OR : LM_T_AND;
	struct lm_expr *lhs = or ? chain(w, depth, false) : primary(w, depth);

	while (!w->failed && lm_lex_peek(&w->lx).kind == tk) {
		struct lm_tok t = lm_lex_next(&w->lx);
		struct lm_expr *rhs = or ? chain(w, depth, false) : primary(w, depth), *e;
		e = w->failed ? NULL : lm_calloc(w->c, 1, sizeof(*e));
		if (!e) {
			w->failed = true;
			lm_expr_free(rhs);
			break;
		}
		e->op = or ? LM_E_OR : LM_E_AND;
		e->lhs = lhs;
		e->rhs = rhs;
		e->pos = t.pos;
		lhs = e;
	}
	return lhs;
}

static struct lm_expr *or_expr(struct wp *w, int depth)
{
	return chain(w, depth, true);
}

struct lm_expr *lm_when_parse(struct lm_ctx *c, const struct lm_kv *kv, const struct lm_sig *sig,
                              bool sig_ok)
{
	struct wp w = {.c = c, .sig = sig, .sig_ok = sig_ok};
	struct lm_expr *e;

	lm_lex_init(&w.lx, kv->val, kv->vlen, kv->vpos);
	e = or_expr(&w, 0);
	if (!w.failed) {
		struct lm_tok t = lm_lex_next(&w.lx);
		if (t.kind != LM_T_END)
			fail(&w, &t, "&&, || or the end");
	}
	if (w.failed) {
		lm_expr_free(e);
		return NULL;
	}
	return e;
}
