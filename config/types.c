/* [type NAME] sections (spec 3.6): the `fields` list, then the x86-64
 * System V layout of every type. A type may not contain itself, by value
 * or through TYPE*: a deep copy of a pointer cycle would not terminate,
 * so self-reference through pointers is rejected too. */
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

#define LM_TYPE_MAX_DEPTH 64
#define LM_BYTES_MAX      ((size_t)1 << 30)
#define LM_TYPE_MAX_SIZE  ((size_t)1 << 40)

/* Skip to the next top-level comma after an error. */
static void recover(struct lm_lexer *lx)
{
	struct lm_tok t = lm_lex_peek(lx);
	while (t.kind != LM_T_END && t.kind != LM_T_COMMA) {
		lm_lex_next(lx);
		t = lm_lex_peek(lx);
	}
}

/* One field's kind; false (reported) when it is not a field kind. */
static bool field_kind(struct lm_ctx *c, struct lm_lexer *lx, struct lm_field *f)
{
	struct lm_tok t = lm_lex_peek(lx);
	int rc = lm_parse_c_kind(c, lx, &f->kind);

	if (rc < 0)
		return false;
	if (rc > 0) {
		struct lm_tok star = lm_lex_peek(lx);
		if (star.kind == LM_T_STAR && f->kind != LM_K_STR) {
			lm_diag_error(c, t.pos,
			              "pointer field '" LM_QFMT " *': use str, ptr or TYPE*",
			              LM_QARG(t.s, t.len));
			return false;
		}
		return true;
	}
	if (t.kind != LM_T_IDENT) {
		char d[64];
		lm_tok_describe(&t, d, sizeof(d));
		lm_diag_error(c, t.pos, "expected a field kind, got %s", d);
		return false;
	}
	lm_lex_next(lx);
	if (lm_tok_is(&t, "ptr") || lm_tok_is(&t, "str") || lm_tok_is(&t, "strv")) {
		f->kind = t.len == 3 ? (t.s[0] == 'p' ? LM_K_PTR : LM_K_STR) : LM_K_STRV;
		return true;
	}
	if (lm_tok_is(&t, "bytes")) {
		struct lm_tok lp = lm_lex_next(lx), n = lm_lex_next(lx), rp = lm_lex_next(lx);
		if (lp.kind != LM_T_LPAREN || n.kind != LM_T_INT || rp.kind != LM_T_RPAREN) {
			lm_diag_error(c, t.pos, "expected bytes(N) with N a positive integer");
			return false;
		}
		if (n.ival <= 0 || (size_t)n.ival > LM_BYTES_MAX) {
			lm_diag_error(c, n.pos, "bytes(N) needs 0 < N <= %zu", LM_BYTES_MAX);
			return false;
		}
		f->kind = LM_K_BYTES;
		f->nbytes = (size_t)n.ival;
		return true;
	}
	if (lm_tok_is(&t, "struct") || lm_tok_is(&t, "union")) {
		lm_diag_error(c, t.pos, "use a [type] name instead of '" LM_QFMT "'",
		              LM_QARG(t.s, t.len));
		return false;
	}
	if (lm_tok_is(&t, "buf") || lm_tok_is(&t, "out") || lm_tok_is(&t, "ignore") ||
	    lm_tok_is(&t, "void")) {
		lm_diag_error(c, t.pos, "'" LM_QFMT "' is not a field kind", LM_QARG(t.s, t.len));
		return false;
	}
	f->type = lm_find_type_n(c->cfg, t.s, t.len);
	if (f->type < 0) {
		lm_diag_error(c, t.pos, "unknown field kind '" LM_QFMT "' (not a kind or a [type])",
		              LM_QARG(t.s, t.len));
		return false;
	}
	f->kind = LM_K_STRUCT;
	if (lm_lex_peek(lx).kind == LM_T_STAR) {
		lm_lex_next(lx);
		f->kind = LM_K_STRUCT_PTR;
	}
	return true;
}

void lm_type_parse_fields(struct lm_ctx *c, struct lm_rsec *s)
{
	struct lm_type *ty = &c->cfg->types[s->index];
	const struct lm_kv *kv = &s->keys[LM_KEY_FIELDS];
	struct lm_lexer lx;
	size_t cap = 1;

	if (!kv->present) {
		lm_diag_error(c, s->pos, "missing 'fields' in [type %s]", ty->name ? ty->name : "");
		return;
	}
	for (size_t i = 0; i < kv->vlen; i++)
		cap += kv->val[i] == ',';
	ty->fields = lm_calloc(c, cap, sizeof(*ty->fields));
	if (!ty->fields)
		return;
	lm_lex_init(&lx, kv->val, kv->vlen, kv->vpos);
	for (;;) {
		struct lm_field *f = &ty->fields[ty->nfields];
		struct lm_tok start = lm_lex_peek(&lx), name, sep;

		memset(f, 0, sizeof(*f));
		f->pos = start.pos;
		if (!field_kind(c, &lx, f)) {
			recover(&lx);
		} else if ((name = lm_lex_next(&lx)).kind != LM_T_IDENT) {
			char d[64];
			lm_tok_describe(&name, d, sizeof(d));
			lm_diag_error(c, name.pos, "expected a field name, got %s", d);
			recover(&lx);
		} else {
			bool dup = false;
			for (size_t i = 0; i < ty->nfields; i++)
				if (strlen(ty->fields[i].name) == name.len &&
				    memcmp(ty->fields[i].name, name.s, name.len) == 0)
					dup = true;
			if (dup) {
				lm_diag_error(c, name.pos, "duplicate field '" LM_QFMT "'",
				              LM_QARG(name.s, name.len));
				recover(&lx);
			} else {
				f->name = lm_strndup(c, name.s, name.len);
				if (!f->name)
					return;
				ty->nfields++;
			}
		}
		sep = lm_lex_next(&lx);
		if (sep.kind == LM_T_END)
			break;
		if (sep.kind != LM_T_COMMA) {
			char d[64];
			lm_tok_describe(&sep, d, sizeof(d));
			lm_diag_error(c, sep.pos, "expected ',' between fields, got %s", d);
			recover(&lx);
			if (lm_lex_next(&lx).kind == LM_T_END)
				break;
		}
	}
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

enum { UNSEEN, VISITING, DONE };

static void layout(struct lm_ctx *c, int idx, char *state, int depth)
{
	struct lm_type *t = &c->cfg->types[idx];
	size_t off = 0, align = 1;

	state[idx] = VISITING;
	for (size_t i = 0; i < t->nfields; i++) {
		struct lm_field *f = &t->fields[i];
		size_t fs = lm_kind_width(f->kind), fa = fs;

		if (f->kind == LM_K_STRUCT || f->kind == LM_K_STRUCT_PTR) {
			struct lm_type *u = &c->cfg->types[f->type];
			if (state[f->type] == VISITING) {
				lm_diag_error(c, f->pos, "type '%s' contains itself (field '%s')",
				              t->name, f->name);
				t->broken = true;
			} else if (state[f->type] == UNSEEN && depth >= LM_TYPE_MAX_DEPTH) {
				lm_diag_error(c, f->pos, "types nested more than %d deep",
				              LM_TYPE_MAX_DEPTH);
				t->broken = true;
			} else {
				if (state[f->type] == UNSEEN)
					layout(c, f->type, state, depth + 1);
				if (u->broken) {
					lm_diag_error(c, f->pos,
					              "field '%s' uses type '%s', which has errors",
					              f->name, u->name);
					t->broken = true;
				}
			}
			if (f->kind == LM_K_STRUCT && !u->broken && state[f->type] == DONE) {
				fs = u->size;
				fa = u->align;
				t->has_pointers |= u->has_pointers;
			}
			if (f->kind == LM_K_STRUCT_PTR)
				t->has_pointers = true;
		}
		switch (f->kind) {
		case LM_K_PTR:
		case LM_K_STR:
		case LM_K_STRV:
		case LM_K_STRUCT_PTR:
			fs = fa = sizeof(void *);
			t->has_pointers = true;
			break;
		case LM_K_BYTES:
			fs = f->nbytes;
			fa = 1;
			break;
		default:
			break;
		}
		if (fa == 0)
			fa = 1;
		off = align_up(off, fa);
		f->offset = off;
		off += fs;
		if (fa > align)
			align = fa;
		if (off > LM_TYPE_MAX_SIZE) {
			lm_diag_error(c, f->pos, "type '%s' is too large", t->name);
			t->broken = true;
			break;
		}
	}
	t->align = align;
	t->size = align_up(off, align);
	state[idx] = DONE;
}

void lm_types_layout(struct lm_ctx *c)
{
	char *state;

	if (!c->cfg->ntypes)
		return;
	state = lm_calloc(c, c->cfg->ntypes, 1);
	if (!state)
		return;
	for (size_t i = 0; i < c->cfg->ntypes; i++)
		if (state[i] == UNSEEN)
			layout(c, (int)i, state, 0);
	free(state);
}
