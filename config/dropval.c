/* The literal values of `drop` (spec 3.5) and of `ldmemo ctl invalidate`:
 * one reader and one rule for which key parameter a value can match, so
 * that the two never disagree on what a value is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

static bool is_digits(const struct lm_tok *t)
{
	for (size_t i = 0; i < t->len; i++)
		if (t->s[i] < '0' || t->s[i] > '9')
			return false;
	return t->len > 0;
}

int lm_dropval_lex(struct lm_lexer *lx, struct lm_dropval *v, char *why, size_t whylen)
{
	struct lm_tok t = lm_lex_peek(lx);
	bool minus = t.kind == LM_T_MINUS;

	v->pos = t.pos;
	if (t.kind == LM_T_IDENT)
		return 0;
	lm_lex_next(lx);
	if (minus)
		t = lm_lex_next(lx);
	if (t.kind == LM_T_STAR && !minus) {
		v->kind = LM_DV_ANY;
	} else if (t.kind == LM_T_INT) {
		v->kind = LM_DV_INT;
		v->ival = minus ? -t.ival : t.ival;
	} else if (t.kind == LM_T_FLOAT) {
		v->kind = LM_DV_FLOAT;
		v->fval = minus ? -t.fval : t.fval;
	} else if (t.kind == LM_T_STRING && !minus) {
		if (t.unterminated) {
			snprintf(why, whylen, "unterminated string");
			return -1;
		}
		v->kind = LM_DV_STR;
		v->sval = lm_tok_string(NULL, &t);
		if (!v->sval) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
	} else if (t.kind == LM_T_BAD && is_digits(&t)) {
		/* Not a float: "99999999999999999999999" used to be read as one. */
		snprintf(why, whylen, "integer '" LM_QFMT "' out of range (64 bits)",
		         LM_QARG(t.s, t.len));
		return -1;
	} else {
		lm_tok_describe(&t, why, whylen);
		return -2;
	}
	return 1;
}

int lm_dropval_parse(const char *s, size_t len, struct lm_dropval *v, char *why, size_t whylen)
{
	struct lm_lexer lx;
	struct lm_pos pos = {.line = 1, .col = 1};

	memset(v, 0, sizeof(*v));
	lm_lex_init(&lx, s, len, pos);
	int rc = lm_dropval_lex(&lx, v, why, whylen);
	if (rc == 0 || rc == -2) {
		snprintf(why, whylen, "expected a number, a \"string\" or '*', got '%.*s'",
		         (int)(len > 64 ? 64 : len), s);
		return -1;
	}
	if (rc < 0)
		return -1;
	if (lm_lex_next(&lx).kind != LM_T_END) {
		free(v->sval);
		v->sval = NULL;
		snprintf(why, whylen, "one value expected, got '%.*s'", (int)(len > 64 ? 64 : len),
		         s);
		return -1;
	}
	return 0;
}

/* As the drop plan encodes them (shim/plan/drop_plan.c): an integer names
 * an integer, a float or an address; a string only a str. */
bool lm_dropval_fits(const struct lm_dropval *v, enum lm_kind k)
{
	switch (v->kind) {
	case LM_DV_ANY:
		return true;
	case LM_DV_INT:
		return lm_kind_is_int(k) || lm_kind_is_float(k) || k == LM_K_PTR;
	case LM_DV_FLOAT:
		return lm_kind_is_float(k);
	case LM_DV_STR:
		return k == LM_K_STR;
	default:
		return false;
	}
}

const char *lm_dropval_class(enum lm_dropval_kind k)
{
	return k == LM_DV_INT ? "integer" : k == LM_DV_FLOAT ? "float" : "string";
}
