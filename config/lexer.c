/* The token scanner for the structured values: signatures, `when`, `drop`
 * and `fields`. It works on one value (one line) and never allocates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

void lm_lex_init(struct lm_lexer *lx, const char *s, size_t len, struct lm_pos pos)
{
	lx->p = lx->base = s;
	lx->end = s + len;
	lx->start = pos;
	lx->peeked = false;
}

static bool ident_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static bool ident_char(char ch)
{
	return ident_start(ch) || (ch >= '0' && ch <= '9');
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static int hexval(char ch)
{
	if (is_digit(ch))
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* A number: decimal or hex integer, or a decimal float. Digits are read by
 * hand so that errno is left alone; a float goes through a bounded copy. */
static void number(struct lm_lexer *lx, struct lm_tok *t)
{
	const char *p = lx->p;
	uint64_t v = 0;
	bool overflow = false, isfloat = false;

	if (p + 1 < lx->end && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && p + 2 < lx->end &&
	    hexval(p[2]) >= 0) {
		for (p += 2; p < lx->end && hexval(*p) >= 0; p++) {
			if (v >> 60)
				overflow = true;
			v = v << 4 | (uint64_t)hexval(*p);
		}
	} else {
		for (; p < lx->end && is_digit(*p); p++) {
			uint64_t d = (uint64_t)(*p - '0');
			if (v > (UINT64_MAX - d) / 10)
				overflow = true;
			v = v * 10 + d;
		}
		if (p < lx->end && *p == '.') {
			isfloat = true;
			for (p++; p < lx->end && is_digit(*p); p++)
				;
		}
		if (p < lx->end && (*p == 'e' || *p == 'E')) {
			const char *q = p + 1;
			if (q < lx->end && (*q == '+' || *q == '-'))
				q++;
			if (q < lx->end && is_digit(*q)) {
				isfloat = true;
				for (p = q; p < lx->end && is_digit(*p); p++)
					;
			}
		}
	}
	while (p < lx->end && ident_char(*p)) {
		overflow = true; /* 12abc: report the whole word as bad */
		p++;
	}
	t->s = lx->p;
	t->len = (size_t)(p - lx->p);
	lx->p = p;
	if (overflow) {
		t->kind = LM_T_BAD;
	} else if (isfloat) {
		char buf[64];
		if (t->len >= sizeof(buf)) {
			t->kind = LM_T_BAD;
			return;
		}
		memcpy(buf, t->s, t->len);
		buf[t->len] = 0;
		t->kind = LM_T_FLOAT;
		t->fval = strtod(buf, NULL);
	} else if (v > (uint64_t)INT64_MAX) {
		t->kind = LM_T_BAD;
	} else {
		t->kind = LM_T_INT;
		t->ival = (int64_t)v;
	}
}

static void string(struct lm_lexer *lx, struct lm_tok *t)
{
	const char *p = lx->p + 1;

	t->kind = LM_T_STRING;
	while (p < lx->end && *p != '"') {
		if (*p == '\\' && p + 1 < lx->end)
			p++;
		p++;
	}
	t->unterminated = p >= lx->end;
	if (!t->unterminated)
		p++;
	t->s = lx->p;
	t->len = (size_t)(p - lx->p);
	lx->p = p;
}

static struct lm_tok scan(struct lm_lexer *lx)
{
	struct lm_tok t;
	const char *p;

	memset(&t, 0, sizeof(t));
	while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
		lx->p++;
	p = lx->p;
	t.pos.line = lx->start.line;
	t.pos.col = lx->start.col + (int)(p - lx->base);
	t.s = p;
	if (p >= lx->end) {
		t.kind = LM_T_END;
		return t;
	}
	if (ident_start(*p)) {
		while (p < lx->end && ident_char(*p))
			p++;
		t.kind = LM_T_IDENT;
		t.len = (size_t)(p - lx->p);
		lx->p = p;
		return t;
	}
	if (is_digit(*p) || (*p == '.' && p + 1 < lx->end && is_digit(p[1]))) {
		number(lx, &t);
		return t;
	}
	if (*p == '"') {
		string(lx, &t);
		return t;
	}
	t.len = 1;
	switch (*p) {
	case '(':
		t.kind = LM_T_LPAREN;
		break;
	case ')':
		t.kind = LM_T_RPAREN;
		break;
	case ',':
		t.kind = LM_T_COMMA;
		break;
	case '*':
		t.kind = LM_T_STAR;
		break;
	case '-':
		t.kind = LM_T_MINUS;
		break;
	case '.':
		t.kind = LM_T_BAD;
		if (p + 2 < lx->end && p[1] == '.' && p[2] == '.') {
			t.kind = LM_T_ELLIPSIS;
			t.len = 3;
		}
		break;
	case '&':
	case '|':
		t.kind = LM_T_BAD;
		if (p + 1 < lx->end && p[1] == *p) {
			t.kind = *p == '&' ? LM_T_AND : LM_T_OR;
			t.len = 2;
		}
		break;
	case '=':
	case '!':
	case '<':
	case '>': {
		bool eq = p + 1 < lx->end && p[1] == '=';
		t.kind = LM_T_OP;
		t.len = eq ? 2 : 1;
		if (*p == '=')
			t.op = LM_CMP_EQ;
		else if (*p == '!')
			t.op = LM_CMP_NE;
		else if (*p == '<')
			t.op = eq ? LM_CMP_LE : LM_CMP_LT;
		else
			t.op = eq ? LM_CMP_GE : LM_CMP_GT;
		if ((*p == '=' || *p == '!') && !eq)
			t.kind = LM_T_BAD;
		break;
	}
	default:
		t.kind = LM_T_BAD;
		break;
	}
	lx->p = p + t.len;
	return t;
}

struct lm_tok lm_lex_next(struct lm_lexer *lx)
{
	if (lx->peeked) {
		lx->peeked = false;
		return lx->peek;
	}
	return scan(lx);
}

struct lm_tok lm_lex_peek(struct lm_lexer *lx)
{
	if (!lx->peeked) {
		lx->peek = scan(lx);
		lx->peeked = true;
	}
	return lx->peek;
}

bool lm_tok_is(const struct lm_tok *t, const char *word)
{
	return t->kind == LM_T_IDENT && strlen(word) == t->len && memcmp(t->s, word, t->len) == 0;
}

char *lm_tok_string(struct lm_ctx *c, const struct lm_tok *t)
{
	size_t n = t->len - (t->unterminated ? 1 : 2), k = 0;
	const char *s = t->s + 1;
	char *out = malloc(n + 1);

	if (!out) {
		if (c)
			c->oom = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n && s[i + 1] == 'n') {
			out[k++] = '\n'; /* how `ldmemo ctl` sends a newline on its line */
			i++;
			continue;
		}
		if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\'))
			i++;
		out[k++] = s[i];
	}
	out[k] = 0;
	return out;
}

void lm_tok_describe(const struct lm_tok *t, char *buf, size_t len)
{
	if (t->kind == LM_T_END)
		snprintf(buf, len, "end of value");
	else
		snprintf(buf, len, "'" LM_QFMT "'", LM_QARG(t->s, t->len));
}
