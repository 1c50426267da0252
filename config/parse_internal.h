/* Shared internals of the config parser: the parse context, the raw
 * sections collected from the text, the token scanner and the per-construct
 * parsers. Nothing here is visible outside config/. */
#ifndef LM_PARSE_INTERNAL_H
#define LM_PARSE_INTERNAL_H

#include <stdarg.h>

#include "config.h"

/* Longest token text quoted in a message: a 10 MB token stays a short line. */
#define LM_QUOTE_MAX 40
#define LM_QFMT      "%.*s%s"
#define LM_QARG(s, n) \
	(int)((n) > LM_QUOTE_MAX ? LM_QUOTE_MAX : (n)), (s), ((n) > LM_QUOTE_MAX ? "..." : "")

/* Bounds that keep hostile input from exhausting the stack. */
#define LM_WHEN_MAX_DEPTH 64
#define LM_WHEN_MAX_TERMS 256

struct lm_ctx {
	struct lm_config *cfg;
	struct lm_diags *diags;
	int errors;
	bool oom;
};

/* Append a diagnostic; counts errors; sets ctx->oom when it cannot. */
void lm_diag_error(struct lm_ctx *c, struct lm_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void lm_diag_warn(struct lm_ctx *c, struct lm_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Order diagnostics by position, keeping the order of equal positions. */
void lm_diags_sort(struct lm_diags *d);

/* Allocation that records failure in the context instead of aborting. */
void *lm_calloc(struct lm_ctx *c, size_t n, size_t size);
char *lm_strndup(struct lm_ctx *c, const char *s, size_t n);
/* V (an array of *CAP elements of SIZE, N of them used) with room for one
 * more: V itself while N < *CAP, else moved to twice *CAP (FIRST when 0),
 * *CAP updated. NULL with C's oom set when out of memory; V is then
 * unchanged and still the caller's. */
void *lm_grow(struct lm_ctx *c, void *v, size_t *cap, size_t n, size_t size, size_t first);

/* ---- Raw sections ------------------------------------------------------- */

enum lm_sec_kind { LM_SEC_GLOBAL, LM_SEC_TYPE, LM_SEC_CACHE, LM_SEC_INVALIDATE };

enum lm_key {
	LM_KEY_TTL,
	LM_KEY_MAX_ENTRIES,
	LM_KEY_MAX_MEMORY,
	LM_KEY_BACKEND,
	LM_KEY_NAMESPACE,
	LM_KEY_L1_TTL,
	LM_KEY_REDIS_TIMEOUT,
	LM_KEY_PROGRAMS,
	LM_KEY_HOOK,
	LM_KEY_COALESCE,
	LM_KEY_ADAPTIVE,
	LM_KEY_PERSIST,
	LM_KEY_CONTROL,
	LM_KEY_STATS,
	LM_KEY_STATS_FORMAT,
	LM_KEY_STATS_SIGNAL,
	LM_KEY_SHARED,
	LM_KEY_SHARED_MEMORY,
	LM_KEY_FIELDS,
	LM_KEY_SIGNATURE,
	LM_KEY_NEGATIVE_TTL,
	LM_KEY_STALE_IF_ERROR,
	LM_KEY_WHEN,
	LM_KEY_OBJECT,
	LM_KEY_MODE,
	LM_KEY_DROP,
	LM_KEY_COUNT
};

/* A value as written: points into the parsed text, comment and blanks cut. */
struct lm_kv {
	bool present;
	const char *val;
	size_t vlen;
	struct lm_pos kpos, vpos;
};

struct lm_rsec {
	enum lm_sec_kind kind;
	const char *name; /* without version */
	size_t nlen;
	const char *version;
	size_t verlen;
	struct lm_pos pos, npos; /* header '[', name */
	bool broken;
	int index; /* into cfg->types or cfg->methods, -1 when not entered */
	/* Its keys as written: entries [first, first + nkeys) of the parser's
	 * list (a section holds a few of the LM_KEY_COUNT keys, and a program
	 * pays a page fault for every page the parse touches). */
	uint32_t first, nkeys;
	/* Every key by id, absent ones not present: set only while a
	 * section's keys are applied (parse.c's each). */
	const struct lm_kv *keys;
};

const char *lm_key_name(enum lm_key k);
const char *lm_sec_kind_name(enum lm_sec_kind k);
/* The key id for KEY in a section of KIND; -1 (with a message) when unknown. */
int lm_key_lookup(struct lm_ctx *c, const struct lm_rsec *s, const char *key, size_t klen,
                  struct lm_pos pos);
/* "[cache NAME]" for messages, into BUF. */
const char *lm_sec_label(const struct lm_rsec *s, char *buf, size_t len);

/* ---- Token scanner ------------------------------------------------------ */

enum lm_tok_kind {
	LM_T_END,
	LM_T_IDENT,
	LM_T_INT,
	LM_T_FLOAT,
	LM_T_STRING,
	LM_T_LPAREN,
	LM_T_RPAREN,
	LM_T_COMMA,
	LM_T_STAR,
	LM_T_MINUS,
	LM_T_ELLIPSIS,
	LM_T_OP, /* == != < <= > >= */
	LM_T_AND,
	LM_T_OR,
	LM_T_BAD, /* a character or number that fits nowhere; text says which */
};

struct lm_tok {
	enum lm_tok_kind kind;
	const char *s;
	size_t len;
	struct lm_pos pos;
	int64_t ival;      /* LM_T_INT (overflow: kind LM_T_BAD) */
	double fval;       /* LM_T_FLOAT */
	enum lm_cmp op;    /* LM_T_OP */
	bool unterminated; /* LM_T_STRING missing its closing quote */
};

struct lm_lexer {
	const char *p, *end;
	struct lm_pos start; /* position of the first byte */
	const char *base;
	struct lm_tok peek;
	bool peeked;
};

void lm_lex_init(struct lm_lexer *lx, const char *s, size_t len, struct lm_pos pos);
struct lm_tok lm_lex_next(struct lm_lexer *lx);
struct lm_tok lm_lex_peek(struct lm_lexer *lx);
bool lm_tok_is(const struct lm_tok *t, const char *word);
/* The text of a string token with \", \\ and \n resolved, malloc'd; NULL
 * (C->oom set, when C is given) when out of memory. */
char *lm_tok_string(struct lm_ctx *c, const struct lm_tok *t);

/* dropval.c: a literal value at LX (`*`, [-]number, "string"): 1 read into
 * V, 0 the next token is a name (left unread), -1 a bad literal (WHY says
 * why), -2 not a value at all (WHY describes the token read). */
int lm_dropval_lex(struct lm_lexer *lx, struct lm_dropval *v, char *why, size_t whylen);
/* Short description of a token for "expected X, got Y" messages. */
void lm_tok_describe(const struct lm_tok *t, char *buf, size_t len);

/* ---- Constructs --------------------------------------------------------- */

/* errno name to value; false when unknown. */
bool lm_errno_lookup(const char *s, size_t n, int *value);

/* An integer or float kind at the lexer: spec names (u32), C words
 * (unsigned long), typedefs (size_t), and `const char *` as LM_K_STR.
 * 1: *KIND set and the words consumed; 0: no such kind here; -1: reported
 * error (`long double`, `short long`). */
int lm_parse_c_kind(struct lm_ctx *c, struct lm_lexer *lx, enum lm_kind *kind);

/* Is S a word the kind grammar owns (cannot be a [type] name)? */
bool lm_is_reserved_word(const char *s, size_t n);

int lm_find_type_n(const struct lm_config *cfg, const char *s, size_t n);
int lm_find_method_n(const struct lm_config *cfg, const char *s, size_t n);

/* Simple values; each reports a malformed value at its position. */
char *lm_value_str(struct lm_ctx *c, const struct lm_kv *kv);
char *lm_value_word(struct lm_ctx *c, const struct lm_kv *kv, const char *what);
void lm_value_bad(struct lm_ctx *c, const struct lm_kv *kv, const char *what, const char *expect);
void lm_value_duration(struct lm_ctx *c, const struct lm_kv *kv, int64_t *ms);
void lm_value_count(struct lm_ctx *c, const struct lm_kv *kv, uint64_t *n);
void lm_value_bool(struct lm_ctx *c, const struct lm_kv *kv, bool *b);
void lm_value_hook(struct lm_ctx *c, const struct lm_kv *kv, enum lm_hook_kind *h);

void lm_global_defaults(struct lm_global *g);
void lm_global_apply(struct lm_ctx *c, struct lm_rsec *s);

void lm_type_parse_fields(struct lm_ctx *c, struct lm_rsec *s);
void lm_types_layout(struct lm_ctx *c);

void lm_method_apply(struct lm_ctx *c, struct lm_rsec *s);
bool lm_sig_parse(struct lm_ctx *c, struct lm_rsec *s, const struct lm_kv *kv, struct lm_sig *sig);
struct lm_expr *lm_when_parse(struct lm_ctx *c, const struct lm_kv *kv, const struct lm_sig *sig,
                              bool sig_ok);
void lm_drop_parse(struct lm_ctx *c, struct lm_rsec *s);

void lm_expr_free(struct lm_expr *e);

#endif
