/* Integer and float kinds named the spec's way (i32, u64, f64), the C way
 * (unsigned long long, double) or by typedef (size_t, pid_t), shared by
 * parameters, returns and fields. */
#include <string.h>

#include "parse_internal.h"

static const struct {
	const char *name;
	enum lm_kind kind;
} fixed[] = {
    {"i8", LM_K_I8},        {"i16", LM_K_I16},       {"i32", LM_K_I32},    {"i64", LM_K_I64},
    {"u8", LM_K_U8},        {"u16", LM_K_U16},       {"u32", LM_K_U32},    {"u64", LM_K_U64},
    {"bool", LM_K_BOOL},    {"_Bool", LM_K_BOOL},    {"f32", LM_K_F32},    {"f64", LM_K_F64},
    {"float", LM_K_F32},    {"double", LM_K_F64},    {"size_t", LM_K_U64}, {"ssize_t", LM_K_I64},
    {"off_t", LM_K_I64},    {"pid_t", LM_K_I32},     {"uid_t", LM_K_U32},  {"gid_t", LM_K_U32},
    {"intptr_t", LM_K_I64}, {"uintptr_t", LM_K_U64}, {"int8_t", LM_K_I8},  {"int16_t", LM_K_I16},
    {"int32_t", LM_K_I32},  {"int64_t", LM_K_I64},   {"uint8_t", LM_K_U8}, {"uint16_t", LM_K_U16},
    {"uint32_t", LM_K_U32}, {"uint64_t", LM_K_U64},
};

/* Words of the kind grammar that a [type] may not be named after. */
static const char *const reserved[] = {
    "signed", "unsigned", "char",   "short", "int",   "long",  "void",   "str",
    "buf",    "ptr",      "ignore", "out",   "strv",  "bytes", "static", "const",
    "struct", "union",    "enum",   "ret",   "errno", "NULL",
};

enum { W_SIGNED, W_UNSIGNED, W_CHAR, W_SHORT, W_INT, W_LONG, W_NONE };

static int c_word(const struct lm_tok *t)
{
	for (int i = 0; i < W_NONE; i++)
		if (lm_tok_is(t, reserved[i]))
			return i;
	return W_NONE;
}

bool lm_is_reserved_word(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strlen(reserved[i]) == n && memcmp(reserved[i], s, n) == 0)
			return true;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strlen(fixed[i].name) == n && memcmp(fixed[i].name, s, n) == 0)
			return true;
	return false;
}

/* signed/unsigned/char/short/int/long in any C-valid combination. */
static int c_words(struct lm_ctx *c, struct lm_lexer *lx, enum lm_kind *kind)
{
	int count[W_NONE] = {0};
	struct lm_tok first = lm_lex_peek(lx), t = first;
	const char *end = first.s;
	int w;

	while ((w = c_word(&t)) != W_NONE) {
		lm_lex_next(lx);
		count[w]++;
		end = t.s + t.len;
		t = lm_lex_peek(lx);
	}
	if (lm_tok_is(&t, "double") && count[W_LONG]) {
		lm_diag_error(c, first.pos, "'long double' is not supported");
		lm_lex_next(lx);
		return -1;
	}
	if (count[W_SIGNED] + count[W_UNSIGNED] > 1 || count[W_CHAR] + count[W_SHORT] > 1 ||
	    count[W_INT] > 1 || count[W_LONG] > 2 ||
	    (count[W_CHAR] && (count[W_INT] || count[W_LONG])) ||
	    (count[W_SHORT] && count[W_LONG])) {
		lm_diag_error(c, first.pos, "invalid integer type '" LM_QFMT "'",
		              LM_QARG(first.s, (size_t)(end - first.s)));
		return -1;
	}
	bool u = count[W_UNSIGNED] > 0;
	if (count[W_CHAR])
		*kind = u ? LM_K_U8 : LM_K_I8;
	else if (count[W_SHORT])
		*kind = u ? LM_K_U16 : LM_K_I16;
	else if (count[W_LONG])
		*kind = u ? LM_K_U64 : LM_K_I64;
	else
		*kind = u ? LM_K_U32 : LM_K_I32;
	return 1;
}

int lm_parse_c_kind(struct lm_ctx *c, struct lm_lexer *lx, enum lm_kind *kind)
{
	struct lm_tok t = lm_lex_peek(lx);

	if (t.kind != LM_T_IDENT)
		return 0;
	if (lm_tok_is(&t, "long")) {
		/* `long double` must be caught before `double` alone. */
		return c_words(c, lx, kind);
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (lm_tok_is(&t, fixed[i].name)) {
			lm_lex_next(lx);
			*kind = fixed[i].kind;
			return 1;
		}
	}
	if (lm_tok_is(&t, "const")) {
		lm_lex_next(lx);
		struct lm_tok ch = lm_lex_next(lx), star = lm_lex_peek(lx);
		if (lm_tok_is(&ch, "char") && star.kind == LM_T_STAR) {
			lm_lex_next(lx);
			*kind = LM_K_STR;
			return 1;
		}
		lm_diag_error(
		    c, t.pos,
		    "only 'const char *' is understood after 'const' (use str, ptr or buf(SIZE))");
		return -1;
	}
	if (c_word(&t) != W_NONE)
		return c_words(c, lx, kind);
	return 0;
}
